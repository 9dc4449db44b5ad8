// 2-D maps of embeddings by UMAP, from the maintained umap-js library (nearest-neighbour descent + SGD layout),
// which scales to far more points than the exact-repulsion t-SNE in projection.ts. Seeded, so the same run gives
// the same map; computed off the UI thread (projection-worker.ts).
import { UMAP } from 'umap-js';
import { rng } from './projection';

export interface UmapOptions {
  seed?: number;
  neighbors?: number;
  minDist?: number;
  epochs?: number;
  /**
   * Exact nearest neighbours by brute force instead of umap-js's approximate search (random-projection trees and
   * NN-descent): for a few thousand points in a few dimensions, both faster and exact.
   */
  exactNeighbours?: boolean;
  /** Starting positions [n, 2] instead of umap-js's random ones (a layout to refine). */
  init?: Float32Array;
  onProgress?: (done: number, total: number) => void;
}

/** UMAP of the rows of X [n, d] to [n, 2]. */
export function umap(X: Float32Array, n: number, d: number, opts: UmapOptions = {}): Float32Array {
  const rows: number[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = Array.from(X.subarray(i * d, (i + 1) * d));
  const u: UMAP = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(opts.neighbors ?? 15, n - 1)),
    minDist: opts.minDist ?? 0.1,
    nEpochs: opts.epochs,
    random: rng(opts.seed ?? 1),
  });
  if (opts.exactNeighbours) {
    const { indices, distances } = exactNeighbours(X, n, d, Math.max(2, Math.min(opts.neighbors ?? 15, n - 1)));
    u.setPrecomputedKNN(indices, distances);
  }
  // the search graph serves only umap-js's transform(), never called here: building it took a fifth of the setup
  (u as unknown as { makeSearchGraph: () => null }).makeSearchGraph = () => null;
  const total = u.initializeFit(rows);
  if (opts.init) {
    // the optimiser moves the embedding's own row arrays, so they are set in place
    const Y0 = u.getEmbedding();
    for (let i = 0; i < n; i++) [Y0[i][0], Y0[i][1]] = [opts.init[2 * i], opts.init[2 * i + 1]];
  }
  for (let e = 0; e < total; e++) {
    u.step();
    if (e % 25 === 0) opts.onProgress?.(e, total);
  }
  opts.onProgress?.(total, total);
  const Y = u.getEmbedding();
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[2 * i] = Y[i][0];
    out[2 * i + 1] = Y[i][1];
  }
  return out;
}

/**
 * Each row's k nearest rows (itself first, at distance 0, as umap-js's own search returns them), Euclidean. Each
 * pair's distance is computed once and offered to both rows' lists.
 */
export function exactNeighbours(X: Float32Array, n: number, d: number, k: number) {
  const bi = new Int32Array(n * k);
  const bd = new Float64Array(n * k).fill(Infinity);
  const found = new Int32Array(n);
  const offer = (i: number, j: number, s: number) => {
    const o = i * k;
    if (found[i] === k && s >= bd[o + k - 1]) return;
    let at = found[i] < k ? found[i]++ : k - 1;
    while (at > 0 && bd[o + at - 1] > s) {
      bd[o + at] = bd[o + at - 1];
      bi[o + at] = bi[o + at - 1];
      at--;
    }
    bd[o + at] = s;
    bi[o + at] = j;
  };
  for (let i = 0; i < n; i++) offer(i, i, 0); // itself first, even beside a duplicate row
  for (let i = 0; i < n; i++) {
    const a = i * d;
    for (let j = i + 1; j < n; j++) {
      const b = j * d;
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = X[a + c] - X[b + c];
        s += t * t;
      }
      offer(i, j, s);
      offer(j, i, s);
    }
  }
  const indices: number[][] = new Array(n);
  const distances: number[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    indices[i] = Array.from(bi.subarray(i * k, i * k + found[i]));
    distances[i] = Array.from(bd.subarray(i * k, i * k + found[i]), Math.sqrt);
  }
  return { indices, distances };
}
