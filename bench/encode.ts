// `npm run bench -- encode`: image-encoder throughput of this runtime (ONNX Runtime) against PyTorch eager on
// the same model, the same inputs and the same thread count, in one run; and images/s end to end from JPEG
// files (decode + resize + encode) next to pre-processing alone, to show which one bounds it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { MomeModel, decodeRgb, toTensor } from '../model-runtime/src/index';
import { findTorchPython } from '../scripts/lib.mjs';

export async function benchEncode(): Promise<Record<string, unknown>> {
  const repo = path.resolve(import.meta.dirname, '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-encode-'));
  const threads = Math.max(1, os.cpus().length);
  const batch = 16;
  const iters = 4;
  const vocab = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
  const torchResult = JSON.parse(
    execFileSync(
      findTorchPython()!,
      [path.join(repo, 'bench', 'encode_reference.py'), dir, vocab, String(threads), String(batch), String(iters)],
      {
        env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
      .trim()
      .split('\n')
      .at(-1)!,
  );
  const model = await MomeModel.load(path.join(dir, 'model'), { device: 'cpu', threads });
  const S = model.config.imageSize;
  const buf = fs.readFileSync(path.join(dir, 'pixels.f32'));
  const pixels = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const feed = () => ({ pixel_values: new ort.Tensor('float32', pixels, [batch, 3, S, S]) });
  for (let i = 0; i < 2; i++) await model.runGraph('image', feed());
  let t0 = performance.now();
  for (let i = 0; i < iters; i++) await model.runGraph('image', feed());
  const ortSeconds = (performance.now() - t0) / 1000;
  const ortImagesPerS = (batch * iters) / ortSeconds;

  // end to end from JPEG files of realistic sizes
  const files: string[] = [];
  for (let i = 0; i < 48; i++) {
    const w = 480 + (i % 4) * 80;
    const h = 360 + (i % 3) * 60;
    const file = path.join(dir, `img${i}.jpg`);
    await sharp({ create: { width: w, height: h, channels: 3, background: `hsl(${(i * 37) % 360}, 60%, 50%)` } })
      .composite([
        {
          input: Buffer.from(
            `<svg width="${w}" height="${h}"><circle cx="${w / 2}" cy="${h / 2}" r="${h / 3}" fill="white"/></svg>`,
          ),
        },
      ])
      .jpeg({ quality: 85 })
      .toFile(file);
    files.push(file);
  }
  t0 = performance.now();
  for (const f of files) toTensor(await decodeRgb(f), { imageSize: S, mean: model.config.mean, std: model.config.std });
  const preprocessImagesPerS = files.length / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  await model.encodeImages(files, { batchSize: batch });
  const endToEndImagesPerS = files.length / ((performance.now() - t0) / 1000);
  await model.release();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    benchmark: 'encode',
    model: torchResult.config,
    threads,
    batch,
    pytorchEager: { imagesPerS: torchResult.images_per_s, torch: torchResult.torch },
    onnxRuntime: { imagesPerS: ortImagesPerS, provider: model.provider.provider },
    ratio: ortImagesPerS / torchResult.images_per_s,
    goal: 'ratio >= 1.5',
    endToEndFromJpeg: {
      imagesPerS: endToEndImagesPerS,
      preprocessOnlyImagesPerS: preprocessImagesPerS,
      inferenceOnlyImagesPerS: ortImagesPerS,
    },
    boundBy: preprocessImagesPerS < ortImagesPerS ? 'pre-processing' : 'inference',
  };
}
