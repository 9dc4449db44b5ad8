// `npm run bench -- nlvr2`: NLVR2 examples/s of this runtime (ONNX Runtime) against PyTorch eager on the
// tiny model (the shipped one when present, else a seeded random model of the same configuration), the same
// inputs and the same thread count, in one run; and examples/s end to end from the sample's PNG pairs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { MomeModel } from '../model-runtime/src/index';
import { findTorchPython } from '../scripts/lib.mjs';

const repo = path.resolve(import.meta.dirname, '..');

function readTyped<T>(file: string, make: (b: ArrayBuffer, o: number, n: number) => T, bytes: number): T {
  const buf = fs.readFileSync(file);
  const copy = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  return make(copy, 0, buf.length / bytes);
}

async function endToEnd(model: MomeModel, batch: number): Promise<number> {
  const root = path.join(repo, 'assets', 'datasets', 'nlvr2-sample');
  const examples = fs
    .readFileSync(path.join(root, 'dev.json'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { identifier: string; sentence: string });
  const pairs = examples.map((e) => {
    const stem = e.identifier.split('-').slice(0, -1).join('-');
    return {
      left: path.join(root, 'dev', `${stem}-img0.png`),
      right: path.join(root, 'dev', `${stem}-img1.png`),
      sentence: e.sentence,
    };
  });
  await model.nlvr2(pairs.slice(0, batch), { batchSize: batch }); // warm-up
  const t0 = performance.now();
  await model.nlvr2(pairs, { batchSize: batch });
  return pairs.length / ((performance.now() - t0) / 1000);
}

interface Measured {
  threads: number;
  pytorchEager: number;
  onnxRuntime: number;
  ratio: number;
}

/** PyTorch eager and ONNX Runtime on the same inputs with the same thread count. */
async function measure(threads: number, batch: number, iters: number, shipped: string | null) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-nlvr2-'));
  const vocab = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
  const args = [
    path.join(repo, 'bench', 'nlvr2_reference.py'),
    dir,
    vocab,
    String(threads),
    String(batch),
    String(iters),
  ];
  const torchResult = JSON.parse(
    execFileSync(findTorchPython()!, [...args, ...(shipped ? [shipped] : [])], {
      env: {
        ...process.env,
        PYTHONPATH: path.join(repo, 'model-runtime', 'python'),
        OMP_NUM_THREADS: String(threads),
      },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .at(-1)!,
  );
  const model = await MomeModel.load(shipped ?? path.join(dir, 'model'), { device: 'cpu', threads });
  const S = torchResult.image_size as number;
  const L = torchResult.max_text_len as number;
  const f32 = (n: string) => readTyped(path.join(dir, n), (b, o, k) => new Float32Array(b, o, k), 4);
  const i64 = (n: string) => readTyped(path.join(dir, n), (b, o, k) => new BigInt64Array(b, o, k), 8);
  const [left, right, ids, mask] = [f32('left.f32'), f32('right.f32'), i64('ids.i64'), i64('mask.i64')];
  const feeds = () => ({
    pixel_values_left: new ort.Tensor('float32', left, [batch, 3, S, S]),
    pixel_values_right: new ort.Tensor('float32', right, [batch, 3, S, S]),
    input_ids: new ort.Tensor('int64', ids, [batch, L]),
    attention_mask: new ort.Tensor('int64', mask, [batch, L]),
  });
  for (let i = 0; i < 2; i++) await model.runGraph('nlvr2', feeds());
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await model.runGraph('nlvr2', feeds());
  const ortPerS = (batch * iters) / ((performance.now() - t0) / 1000);
  fs.rmSync(dir, { recursive: true, force: true });
  const m: Measured = {
    threads,
    pytorchEager: torchResult.examples_per_s,
    onnxRuntime: ortPerS,
    ratio: ortPerS / torchResult.examples_per_s,
  };
  return { m, model, torchResult };
}

export async function benchNlvr2(): Promise<Record<string, unknown>> {
  const batch = 16;
  const iters = 16;
  const shippedDir = path.join(repo, 'assets', 'models', 'mome-tiny');
  const shipped = fs.existsSync(path.join(shippedDir, 'nlvr2.onnx')) ? shippedDir : null;
  const counts = [...new Set([1, Math.max(1, os.cpus().length)])];
  const results: Measured[] = [];
  let info: Record<string, unknown> = {};
  let e2e = 0;
  for (const threads of counts) {
    const { m, model, torchResult } = await measure(threads, batch, iters, shipped);
    results.push(m);
    info = {
      ...torchResult.config,
      imageSize: torchResult.image_size,
      maxTextLen: torchResult.max_text_len,
      torch: torchResult.torch,
    };
    if (threads === counts.at(-1)) e2e = await endToEnd(model, batch);
    await model.release();
  }
  return {
    benchmark: 'nlvr2',
    model: { ...info, source: shipped ? 'assets/models/mome-tiny' : 'random tiny_config' },
    batch,
    examplesPerS: results,
    endToEndFromPng: { examplesPerS: e2e, note: 'decode + resize of both images, tokenize, NLVR2 graph' },
    loadAverage: os.loadavg(),
    note: 'PyTorch runs with OMP_NUM_THREADS = threads; on a loaded machine its OpenMP threads spin, so compare at 1 thread too',
  };
}
