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
