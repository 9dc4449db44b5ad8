// Runs a 2-D projection in a worker thread (runtime-paths finds the worker in every mode the app runs).
import { startWorker } from '../runtime-paths';
import type { WholeMapOptions, WholeMapStage } from './whole-map';

/** t-SNE (PCA-initialised, the default) or UMAP (umap-js) of the rows of `data` [n, d] to [n, 2], in a worker thread. */
export function projectInWorker(
  data: Float32Array,
  n: number,
  d: number,
  opts: {
    seed?: number;
    method?: 'tsne' | 'umap';
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<Float32Array> {
  const copy = Float32Array.from(data.subarray(0, n * d));
  const worker = startWorker('projection-worker', {
    workerData: { data: copy, n, d, seed: opts.seed ?? 1, method: opts.method ?? 'tsne' },
    transferList: [copy.buffer],
  });
  return new Promise((resolve, reject) => {
    let cancelled = false;
    const abort = () => {
      cancelled = true; // terminating exits with code 1: the 'exit' handler must not report that as a failure
      reject(new Error('Cancelled'));
      void worker.terminate();
    };
    opts.signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (m: { xy?: Float32Array; done?: number; total?: number }) => {
      if (m.xy) {
        opts.signal?.removeEventListener('abort', abort);
        resolve(m.xy);
        void worker.terminate();
      } else opts.onProgress?.(m.done!, m.total!);
    });
    worker.on('error', reject);
    worker.on(
      'exit',
      (code) => code !== 0 && !cancelled && reject(new Error(`the projection worker stopped (exit code ${code})`)),
    );
  });
}

/**
 * The map of every row (whole-map.ts) in a worker thread: `onFirst` gets the landmarks' map as soon as UMAP has
 * laid it out, the promise the positions of all rows.
 */
export function wholeMapInWorker(
  data: Float32Array,
  n: number,
  d: number,
  opts: Pick<WholeMapOptions, 'landmarks' | 'firstLandmarks' | 'firstEpochs' | 'dims' | 'epochs' | 'k'> & {
    seed?: number;
    signal?: AbortSignal;
    onProgress?: (stage: WholeMapStage, done: number, total: number) => void;
    onFirst?: (indices: Uint32Array, xy: Float32Array) => void;
    /** Hands `data` to the worker instead of copying it (the caller must not read it afterwards). */
    transfer?: boolean;
  } = {},
): Promise<Float32Array> {
  const rows = opts.transfer && data.length === n * d ? data : Float32Array.from(data.subarray(0, n * d));
  const { landmarks, firstLandmarks, firstEpochs, dims, epochs, k } = opts;
  const worker = startWorker('projection-worker', {
    workerData: {
      data: rows,
      n,
      d,
      seed: opts.seed ?? 1,
      method: 'whole',
      whole: { landmarks, firstLandmarks, firstEpochs, dims, epochs, k },
    },
    transferList: [rows.buffer as ArrayBuffer],
  });
  return new Promise((resolve, reject) => {
    let cancelled = false;
    const abort = () => {
      cancelled = true;
      reject(new Error('Cancelled'));
      void worker.terminate();
    };
    if (opts.signal?.aborted) return abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    worker.on(
      'message',
      (m: {
        xy?: Float32Array;
        first?: Float32Array;
        indices?: Uint32Array;
        stage?: WholeMapStage;
        done?: number;
        total?: number;
      }) => {
        if (m.xy) {
          opts.signal?.removeEventListener('abort', abort);
          resolve(m.xy);
          void worker.terminate();
        } else if (m.first) opts.onFirst?.(m.indices!, m.first);
        else opts.onProgress?.(m.stage!, m.done!, m.total!);
      },
    );
    worker.on('error', reject);
    worker.on(
      'exit',
      (code) => code !== 0 && !cancelled && reject(new Error(`the projection worker stopped (exit code ${code})`)),
    );
  });
}
