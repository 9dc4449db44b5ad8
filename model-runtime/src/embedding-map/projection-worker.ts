// Worker thread: computes one 2-D map (projection.ts) off the thread that serves the UI and the API.
import { parentPort, workerData } from 'node:worker_threads';
import { tsne } from './projection';

const { data, n, d, seed } = workerData as { data: Float32Array; n: number; d: number; seed: number };
const xy = tsne(data, n, d, { seed, onProgress: (done, total) => parentPort!.postMessage({ done, total }) });
parentPort!.postMessage({ xy }, [xy.buffer as ArrayBuffer]);
