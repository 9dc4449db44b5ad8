// A small pool of worker threads for image pre-processing, so decoding and the bicubic resize never block
// the thread that serves the UI, and run in parallel with ONNX Runtime's inference threads.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../runtime-paths';
import { ImageDecodeError, type PreprocessConfig } from './preprocess';

interface Pending {
  resolve(t: Float32Array): void;
  reject(e: Error): void;
  name: string;
}

export class PreprocessPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private turn = 0;

  constructor(size = Math.max(1, Math.min(4, os.cpus().length))) {
    for (let i = 0; i < size; i++) {
      const w = startWorker('preprocess-worker');
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
