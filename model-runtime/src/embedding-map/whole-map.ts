// The map of every point of a run (hundreds of thousands), progressive: UMAP (umap-js) of a small seeded sample
// gives the first map within seconds; UMAP of a larger landmark sample that contains it refines that layout, and
// every other point is then placed as UMAP's transform initialises a new point, at the membership-weighted mean
// of its nearest landmarks' positions. umap-js builds its fuzzy graph in
// string-keyed sparse matrices (a Map entry per edge, ~11M for 740K points × 15 neighbours, past what a Map
// holds), so the landmarks carry the layout and the rest follow them. All in one worker thread
// (projection-worker.ts): PCA to a few dimensions first, so the neighbour searches stay cheap.
import { pcaBasis, rng } from './projection';
import { umap } from './umap';

/** Rows the PCA is fitted on (a spread subset of the landmarks): enough to pin down 16 directions. */
const PCA_ROWS = 2000;

/** Cells of the landmark index searched per placed point. */
const PROBE = 2;

/** Points of the first map's sample (a part of the landmarks): few enough that its UMAP comes within seconds. */
const FIRST = 3_000;

export type WholeMapStage = 'umap' | 'landmarks' | 'pca' | 'place';

export interface WholeMapOptions {
  seed?: number;
  /** Points of the landmark sample that UMAP lays out (the full map's). */
  landmarks?: number;
  /** Points of the first map's sample, a part of the landmarks (all of them when they are under twice as many). */
  firstLandmarks?: number;
  /** UMAP epochs of the first map. */
  firstEpochs?: number;
  /** Dimensions kept by PCA before the neighbour searches. */
  dims?: number;
  /**
   * UMAP epochs over the landmark graph: 200 (umap-js's default above 10K points) when the landmarks are the first
   * map's sample, 100 when they refine the first map (they start from its layout).
   */
  epochs?: number;
  /** Nearest landmarks a placed point follows. */
  k?: number;
  onProgress?: (stage: WholeMapStage, done: number, total: number) => void;
  /** The first map: its sample's indices into the rows and their positions [f, 2]. */
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

/**
 * Places the rows `rows` of Q [·, p] at the membership-weighted mean of the map positions `ly` [m, 2] of their `k`
 * nearest landmarks L [m, p] (sought in the cells of an inverted-file index), as UMAP's transform initialises a new
 * point; `put(i, x, y)` receives each position.
 */
function follow(
  Q: Float32Array,
  rows: Iterable<number>,
  L: Float32Array,
  m: number,
  p: number,
  ly: Float32Array,
  k: number,
  seed: number,
  put: (i: number, x: number, y: number) => void,
) {
  const { c, C, start, members } = cells(L, m, p, PROBE, seed);
  const probe = Math.min(c, PROBE);
  const cellD = new Float64Array(c);
  const near = new Int32Array(probe);
  const bestI = new Int32Array(k);
  const bestD = new Float64Array(k);
  for (const i of rows) {
    for (let j = 0; j < c; j++) cellD[j] = dist2(Q, i, C, j, p);
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
        const dd = dist2(Q, i, L, r, p);
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
    put(i, wx / ws, wy / ws);
  }
}

/** The rows `rows` of Z [·, p], gathered into [rows.length, p]. */
function gather(Z: Float32Array, rows: Uint32Array, p: number): Float32Array {
  const out = new Float32Array(rows.length * p);
  rows.forEach((i, r) => out.set(Z.subarray(i * p, (i + 1) * p), r * p));
  return out;
}

/**
 * Positions [n, 2] of every row of X [n, d]. The first map is UMAP of a small seeded sample (`firstLandmarks`);
 * UMAP of the whole landmark sample (which contains it) then starts from that layout, the other landmarks placed
 * by the first ones, so the full map refines the first instead of replacing it; every other point follows the
 * landmarks.
 */
export function wholeMap(X: Float32Array, n: number, d: number, opts: WholeMapOptions = {}): Float32Array {
  const seed = opts.seed ?? 1;
  const k = opts.k ?? 8;
  // a partial Fisher–Yates shuffle: the smaller sample is the first part of the larger one, so it is contained in it
  const landmarks = sampleIndices(n, opts.landmarks ?? 8_000, seed);
  const m = landmarks.length;
  // a landmark sample under twice the first one's size is laid out in one pass: a second would cost more than it saves
  const firstWanted = opts.firstLandmarks ?? FIRST;
  const first = m >= 2 * firstWanted ? sampleIndices(n, firstWanted, seed) : landmarks;
  const f = first.length;
  const { Z, p, project } = reducer(X, n, d, opts.dims ?? 16, landmarks, seed);
  const isLandmark = new Int32Array(n).fill(-1);
  landmarks.forEach((i, r) => (isLandmark[i] = r));
  const isFirst = new Uint8Array(n);
  first.forEach((i) => (isFirst[i] = 1));
  project(first, () => undefined);
  const F = gather(Z, first, p);
  const fy = umap(F, f, p, {
    seed,
    epochs: f === m ? (opts.epochs ?? 200) : (opts.firstEpochs ?? 200), // umap-js would run 500 up to 10K points
    exactNeighbours: true,
    onProgress: (done, total) => opts.onProgress?.('umap', done, total),
  });
  opts.onFirst?.(first, fy);
  let ly = fy;
  if (f < m) {
    project(
      landmarks.filter((i) => !isFirst[i]),
      () => undefined,
    );
    const L = gather(Z, landmarks, p);
    const init = new Float32Array(m * 2);
    first.forEach((i, r) => {
      init[2 * isLandmark[i]] = fy[2 * r];
      init[2 * isLandmark[i] + 1] = fy[2 * r + 1];
    });
    const rest = Uint32Array.from(landmarks.filter((i) => !isFirst[i]));
    follow(Z, rest, F, f, p, fy, k, seed, (i, x, y) => {
      init[2 * isLandmark[i]] = x;
      init[2 * isLandmark[i] + 1] = y;
    });
    ly = umap(L, m, p, {
      seed,
      epochs: opts.epochs ?? 100,
      exactNeighbours: true,
      init,
      onProgress: (done, total) => opts.onProgress?.('landmarks', done, total),
    });
  }
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
  let placed = 0;
  follow(Z, others(), gather(Z, landmarks, p), m, p, ly, k, seed, (i, x, y) => {
    xy[2 * i] = x;
    xy[2 * i + 1] = y;
    if ((++placed & 16383) === 0) opts.onProgress?.('place', placed, n - m);
  });
  opts.onProgress?.('place', n - m, n - m);
  return xy;
}
