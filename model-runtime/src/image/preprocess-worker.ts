// Worker thread: decodes and pre-processes images off the main thread (see pool.ts).
import { parentPort } from 'node:worker_threads';
import { decodeRgb, ImageDecodeError, toTensor, type PreprocessConfig } from './preprocess';

interface Job {
  id: number;
  input: string | Uint8Array;
  cfg: PreprocessConfig;
}

parentPort!.on('message', async ({ id, input, cfg }: Job) => {
  try {
    const data = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const tensor = toTensor(await decodeRgb(data, typeof input === 'string' ? input : '<buffer>'), cfg);
    parentPort!.postMessage({ id, tensor }, [tensor.buffer as ArrayBuffer]);
  } catch (e) {
    // the reason only: the pool names the file again (a full message would read "Cannot read image X: Cannot…")
    parentPort!.postMessage({ id, error: e instanceof ImageDecodeError ? e.reason : (e as Error).message });
  }
});
