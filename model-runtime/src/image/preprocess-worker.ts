// Worker thread: decodes and pre-processes images off the main thread (see pool.ts).
import { parentPort } from 'node:worker_threads';
import { decodeRgb, toTensor, type PreprocessConfig } from './preprocess';

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
    parentPort!.postMessage({ id, error: (e as Error).message });
  }
});
