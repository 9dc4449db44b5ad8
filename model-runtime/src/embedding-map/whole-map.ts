// The map of every point of a run (hundreds of thousands), progressive: UMAP (umap-js) of a seeded landmark
// sample gives the first map; every other point is then placed as UMAP's transform initialises a new point,
// at the membership-weighted mean of its nearest landmarks' positions. umap-js builds its fuzzy graph in
// string-keyed sparse matrices (a Map entry per edge, ~11M for 740K points × 15 neighbours, past what a Map
// holds), so the landmarks carry the layout and the rest follow them. All in one worker thread
// (projection-worker.ts): PCA to a few dimensions first, so the neighbour searches stay cheap.
import { pcaBasis, rng } from './projection';
import { umap } from './umap';

/** Rows the PCA is fitted on (a spread subset of the landmarks). */
const PCA_ROWS = 4000;

/** Cells of the landmark index searched per placed point. */
const PROBE = 2;

export type WholeMapStage = 'pca' | 'umap' | 'place';

export interface WholeMapOptions {
  seed?: number;
  /** Points of the landmark sample that UMAP lays out (the first map). */
  landmarks?: number;
  /** Dimensions kept by PCA before the neighbour searches. */
  dims?: number;
  /** UMAP epochs over the landmark graph (umap-js's default: 200 above 10K points). */
  epochs?: number;
  /** Nearest landmarks a placed point follows. */
  k?: number;
  onProgress?: (stage: WholeMapStage, done: number, total: number) => void;
  /** The first map: the landmarks' indices into the rows and their positions [m, 2]. */
  onFirst?: (indices: Uint32Array, xy: Float32Array) => void;
}

/** A seeded sample of `m` of the indices 0..n-1, in increasing order. */
export function sampleIndices(n: number, m: number, seed: number): Uint32Array {
  const a = Uint32Array.from({ length: n }, (_, i) => i);
  const r = rng(seed);
  m = Math.min(m, n);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(r() * (n - i));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.subarray(0, m).sort();
}

/**
 * PCA to `p` dimensions fitted on the rows `fit` of X [n, d]; `project(rows, into)` writes rows' coordinates
 * into Z [n, p] (the landmarks first, so that their map need not wait for the rest).
 */
function reducer(X: Float32Array, n: number, d: number, p: number, fit: Uint32Array, seed: number) {
  const q = Math.min(p, d);
  const Z = new Float32Array(n * q);
  if (d <= p) {
    Z.set(X.subarray(0, n * d));
    return { Z, p: q, project: (_rows: Iterable<number>, _tick: () => void) => undefined };
  }
  // a few thousand rows pin down 16 principal directions; more only cost time before the first map
  const rows = fit.length > PCA_ROWS ? fit.filter((_, r) => r % Math.ceil(fit.length / PCA_ROWS) === 0) : fit;
  const S = new Float32Array(rows.length * d);
  rows.forEach((i, r) => S.set(X.subarray(i * d, (i + 1) * d), r * d));
  const { mean, Q } = pcaBasis(S, rows.length, d, p, seed);
  const row = new Float64Array(d);
  const project = (rows: Iterable<number>, tick: () => void) => {
    let done = 0;
    for (const i of rows) {
      for (let j = 0; j < d; j++) row[j] = X[i * d + j] - mean[j];
      for (let k = 0; k < p; k++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += row[j] * Q[j * p + k];
        Z[i * p + k] = s;
      }
      if ((++done & 16383) === 0) tick();
    }
  };
  return { Z, p: q, project };
}

function dist2(Z: Float32Array, a: number, B: Float32Array, b: number, p: number): number {
  let s = 0;
  for (let c = 0; c < p; c++) {
    const t = Z[a * p + c] - B[b * p + c];
    s += t * t;
  }
  return s;
}

/**
 * An inverted-file index over the landmarks: a few Lloyd rounds give √(probe·m) cells (the count that makes
 * scanning the cells and the probed cells' landmarks cost least), so a point's nearest landmarks are sought in
 * its `probe` nearest cells only.
 */
function cells(L: Float32Array, m: number, p: number, probe: number, seed: number) {
  const c = Math.max(1, Math.round(Math.sqrt(probe * m)));
  const C = new Float32Array(c * p);
  sampleIndices(m, c, seed).forEach((i, r) => C.set(L.subarray(i * p, (i + 1) * p), r * p));
  const of = new Int32Array(m);
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < m; i++) {
      let best = 0;
      let bd = Infinity;
      for (let j = 0; j < c; j++) {
        const dd = dist2(L, i, C, j, p);
        if (dd < bd) {
          bd = dd;
          best = j;
        }
      }
      of[i] = best;
    }
    const sum = new Float64Array(c * p);
    const count = new Int32Array(c);
    for (let i = 0; i < m; i++) {
      count[of[i]]++;
      for (let k = 0; k < p; k++) sum[of[i] * p + k] += L[i * p + k];
    }
    for (let j = 0; j < c; j++) if (count[j]) for (let k = 0; k < p; k++) C[j * p + k] = sum[j * p + k] / count[j];
  }
  const start = new Int32Array(c + 1);
  for (let i = 0; i < m; i++) start[of[i] + 1]++;
  for (let j = 0; j < c; j++) start[j + 1] += start[j];
  const members = new Int32Array(m);
  const fill = start.slice(0, c);
  for (let i = 0; i < m; i++) members[fill[of[i]]++] = i;
  return { c, C, start, members };
}

/** Positions [n, 2] of every row of X [n, d]; the landmarks' come from UMAP, the others follow them. */
export function wholeMap(X: Float32Array, n: number, d: number, opts: WholeMapOptions = {}): Float32Array {
  const seed = opts.seed ?? 1;
  const k = opts.k ?? 8;
  const landmarks = sampleIndices(n, opts.landmarks ?? 8_000, seed);
  const m = landmarks.length;
  const { Z, p, project } = reducer(X, n, d, opts.dims ?? 16, landmarks, seed);
  project(landmarks, () => undefined);
  const L = new Float32Array(m * p);
  landmarks.forEach((i, r) => L.set(Z.subarray(i * p, (i + 1) * p), r * p));
  const ly = umap(L, m, p, {
    seed,
    epochs: opts.epochs ?? 200, // umap-js would run 500 up to 10K points
    exactNeighbours: true,
    onProgress: (done, total) => opts.onProgress?.('umap', done, total),
  });
  opts.onFirst?.(landmarks, ly);
  const isLandmark = new Int32Array(n).fill(-1);
  landmarks.forEach((i, r) => (isLandmark[i] = r));
  function* others() {
    for (let i = 0; i < n; i++) if (isLandmark[i] < 0) yield i;
  }
  let ticks = 0;
  const pcaTicks = Math.floor((n - m) / 16384);
  project(others(), () => opts.onProgress?.('pca', ++ticks, pcaTicks));

  const xy = new Float32Array(n * 2);
  landmarks.forEach((i, r) => {
    xy[2 * i] = ly[2 * r];
    xy[2 * i + 1] = ly[2 * r + 1];
  });
  if (m === n) return xy;
  const { c, C, start, members } = cells(L, m, p, PROBE, seed);
  const probe = Math.min(c, PROBE);
  const cellD = new Float64Array(c);
  const near = new Int32Array(probe);
  const bestI = new Int32Array(k);
  const bestD = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    if (isLandmark[i] >= 0) continue;
    for (let j = 0; j < c; j++) cellD[j] = dist2(Z, i, C, j, p);
    for (let t = 0; t < probe; t++) {
      let b = -1;
      for (let j = 0; j < c; j++) if (b < 0 || cellD[j] < cellD[b]) b = j;
      near[t] = b;
      cellD[b] = Infinity;
    }
    let found = 0;
    for (const cell of near)
      for (let s = start[cell]; s < start[cell + 1]; s++) {
        const r = members[s];
        const dd = dist2(Z, i, L, r, p);
        if (found < k || dd < bestD[found - 1]) {
          let at = found < k ? found++ : k - 1;
          while (at > 0 && bestD[at - 1] > dd) {
            bestD[at] = bestD[at - 1];
            bestI[at] = bestI[at - 1];
            at--;
          }
          bestD[at] = dd;
          bestI[at] = r;
        }
      }
    // membership strengths as UMAP's smooth-kNN gives them: exp(-(d - ρ) / σ), ρ the nearest distance
    const rho = Math.sqrt(bestD[0]);
    let sigma = 0;
    for (let t = 0; t < found; t++) sigma += Math.sqrt(bestD[t]) - rho;
    sigma = sigma / Math.max(1, found) || 1e-6;
    let wx = 0;
    let wy = 0;
    let ws = 0;
    for (let t = 0; t < found; t++) {
      const w = Math.exp(-(Math.sqrt(bestD[t]) - rho) / sigma);
      wx += w * ly[2 * bestI[t]];
      wy += w * ly[2 * bestI[t] + 1];
      ws += w;
    }
    xy[2 * i] = wx / ws;
    xy[2 * i + 1] = wy / ws;
    if ((i & 16383) === 0) opts.onProgress?.('place', i, n);
  }
  opts.onProgress?.('place', n, n);
  return xy;
}
