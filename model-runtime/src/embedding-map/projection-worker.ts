// Worker thread: computes one 2-D map (umap.ts or projection.ts) off the thread that serves the UI and the API.
import { parentPort, workerData } from 'node:worker_threads';
import { tsne } from './projection';
import { umap } from './umap';

const { data, n, d, seed, method } = workerData as {
  data: Float32Array;
  n: number;
  d: number;
  seed: number;
  method: 'tsne' | 'umap';
};
const onProgress = (done: number, total: number) => parentPort!.postMessage({ done, total });
const xy = method === 'umap' ? umap(data, n, d, { seed, onProgress }) : tsne(data, n, d, { seed, onProgress });
parentPort!.postMessage({ xy }, [xy.buffer as ArrayBuffer]);
