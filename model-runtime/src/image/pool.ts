// A small pool of worker threads for image pre-processing, so decoding and the bicubic resize never block
// the thread that serves the UI, and run in parallel with ONNX Runtime's inference threads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ImageDecodeError, type PreprocessConfig } from './preprocess';

interface Pending {
  resolve(t: Float32Array): void;
  reject(e: Error): void;
  name: string;
}

/**
 * Starts one worker: the built .js beside this file when bundled, else the TypeScript source loaded through
 * tsx's loader, registered inside the worker (loader hooks of the parent do not reach worker threads).
 */
function startWorker(): Worker {
  const js = fileURLToPath(new URL('./preprocess-worker.js', import.meta.url));
  if (fs.existsSync(js)) return new Worker(js);
  const ts = pathToFileURL(fileURLToPath(new URL('./preprocess-worker.ts', import.meta.url))).href;
  // tsx's ESM entry (package export "tsx/esm/api" -> import); require.resolve would give the CommonJS one
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(boot, { eval: true });
}

export class PreprocessPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private turn = 0;

  constructor(size = Math.max(1, Math.min(4, os.cpus().length))) {
    for (let i = 0; i < size; i++) {
      const w = startWorker();
      w.on('message', (m: { id: number; tensor?: Float32Array; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.tensor) p.resolve(m.tensor);
        else p.reject(new ImageDecodeError(p.name, m.error ?? 'unknown error'));
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  run(input: string | Buffer, cfg: PreprocessConfig): Promise<Float32Array> {
    const id = this.next++;
    const worker = this.workers[this.turn++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, name: typeof input === 'string' ? input : '<buffer>' });
      worker.postMessage({ id, input: typeof input === 'string' ? input : new Uint8Array(input), cfg });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
