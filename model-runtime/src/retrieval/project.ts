// Runs a 2-D projection in a worker thread (the built .js beside this file when bundled, else the TypeScript
// source through tsx's loader, registered inside the worker as image/pool.ts does).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

function startWorker(workerData: unknown, transfer: ArrayBuffer[]): Worker {
  const js = fileURLToPath(new URL('./projection-worker.js', import.meta.url));
  if (fs.existsSync(js)) return new Worker(js, { workerData, transferList: transfer });
  const ts = pathToFileURL(fileURLToPath(new URL('./projection-worker.ts', import.meta.url))).href;
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(boot, { eval: true, workerData, transferList: transfer });
}

/** t-SNE (PCA-initialised) of the rows of `data` [n, d] to [n, 2], in a worker thread. */
export function projectInWorker(
  data: Float32Array,
  n: number,
  d: number,
  opts: { seed?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array> {
  const copy = Float32Array.from(data.subarray(0, n * d));
  const worker = startWorker({ data: copy, n, d, seed: opts.seed ?? 1 }, [copy.buffer]);
  return new Promise((resolve, reject) => {
    const abort = () => void worker.terminate().then(() => reject(new Error('Cancelled')));
    opts.signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (m: { xy?: Float32Array; done?: number; total?: number }) => {
      if (m.xy) {
        opts.signal?.removeEventListener('abort', abort);
        resolve(m.xy);
        void worker.terminate();
      } else opts.onProgress?.(m.done!, m.total!);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => code !== 0 && reject(new Error(`the projection worker stopped (exit code ${code})`)));
  });
}
