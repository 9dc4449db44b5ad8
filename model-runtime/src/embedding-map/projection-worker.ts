// Worker thread: computes one 2-D map (umap.ts, projection.ts or whole-map.ts) off the thread that serves the UI
// and the API.
import { parentPort, workerData } from 'node:worker_threads';
import { tsne } from './projection';
import { umap } from './umap';
import { wholeMap, type WholeMapOptions } from './whole-map';

const { data, n, d, seed, method, whole } = workerData as {
  data: Float32Array;
  n: number;
  d: number;
  seed: number;
  method: 'tsne' | 'umap' | 'whole';
  whole?: Pick<WholeMapOptions, 'landmarks' | 'firstLandmarks' | 'firstEpochs' | 'dims' | 'epochs' | 'k'>;
};
const onProgress = (done: number, total: number) => parentPort!.postMessage({ done, total });
const xy =
  method === 'whole'
    ? wholeMap(data, n, d, {
        ...whole,
        seed,
        onProgress: (stage, done, total) => parentPort!.postMessage({ stage, done, total }),
        onFirst: (indices, first) => parentPort!.postMessage({ indices, first }),
      })
    : method === 'umap'
      ? umap(data, n, d, { seed, onProgress })
      : tsne(data, n, d, { seed, onProgress });
parentPort!.postMessage({ xy }, [xy.buffer as ArrayBuffer]);
