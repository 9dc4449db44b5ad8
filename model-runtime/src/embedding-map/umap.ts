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
  onProgress?: (done: number, total: number) => void;
}

/** UMAP of the rows of X [n, d] to [n, 2]. */
export function umap(X: Float32Array, n: number, d: number, opts: UmapOptions = {}): Float32Array {
  const rows: number[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = Array.from(X.subarray(i * d, (i + 1) * d));
  const u = new UMAP({
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
  const total = u.initializeFit(rows);
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

/** Each row's k nearest rows (itself first, at distance 0, as umap-js's own search returns them), Euclidean. */
export function exactNeighbours(X: Float32Array, n: number, d: number, k: number) {
  const indices: number[][] = new Array(n);
  const distances: number[][] = new Array(n);
  const bi = new Int32Array(k);
  const bd = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let found = 0;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = X[i * d + c] - X[j * d + c];
        s += t * t;
      }
      if (found < k || s < bd[found - 1]) {
        let at = found < k ? found++ : k - 1;
        while (at > 0 && (bd[at - 1] > s || (bd[at - 1] === s && j === i))) {
          bd[at] = bd[at - 1];
          bi[at] = bi[at - 1];
          at--;
        }
        bd[at] = s;
        bi[at] = j;
      }
    }
    indices[i] = Array.from(bi.subarray(0, found));
    distances[i] = Array.from(bd.subarray(0, found), Math.sqrt);
  }
  return { indices, distances };
}
