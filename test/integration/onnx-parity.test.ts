// PyTorch -> ONNX parity (spec §7): random models in the official checkpoint layout are converted with
// `mome convert` (the real Python command) and every graph is run in ONNX Runtime on the inputs PyTorch saw,
// for several batch sizes and text lengths. float32: max abs diff <= 1e-4 on every output; fp16: a looser bound.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModelConfig } from '../../model-runtime/src/model/config';
import { findPython, pythonEnv, runPythonModule } from '../../model-runtime/src/python';
import { tempDir } from './helpers/temp';

const REPO = path.resolve(__dirname, '..', '..');
const VOCAB = path.resolve(REPO, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
const HELPER = path.join(__dirname, 'helpers', 'onnx-parity.py');
const TIMEOUT = 240_000;

type Nested = number | Nested[];
interface Case {
  batch: number;
  text_len: number;
  inputs: Record<string, Nested>;
  outputs: Record<string, Nested>;
}
interface Reference {
  variant: string;
  cases: Case[];
}

const GRAPHS: Record<string, { file: string; inputs: string[]; outputs: string[] }> = {
  image: { file: 'image_encoder.onnx', inputs: ['pixel_values'], outputs: ['image_embeds'] },
  text: { file: 'text_encoder.onnx', inputs: ['input_ids', 'attention_mask'], outputs: ['text_embeds'] },
  fusion: {
    file: 'fusion.onnx',
    inputs: ['pixel_values', 'input_ids', 'attention_mask'],
    outputs: ['pooled', 'itm_logits'],
  },
  nlvr2: {
    file: 'nlvr2.onnx',
    inputs: ['pixel_values_left', 'pixel_values_right', 'input_ids', 'attention_mask'],
    outputs: ['nlvr2_logits'],
  },
};

function shapeOf(x: Nested): number[] {
  const dims: number[] = [];
  for (let cur: Nested = x; Array.isArray(cur); cur = cur[0]) dims.push(cur.length);
  return dims;
}

function flatten(x: Nested, out: number[] = []): number[] {
  if (Array.isArray(x)) for (const v of x) flatten(v, out);
  else out.push(x);
  return out;
}

function toTensor(name: string, value: Nested): ort.Tensor {
  const flat = flatten(value);
  return name === 'input_ids' || name === 'attention_mask'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(flat, (v) => BigInt(v)),
        shapeOf(value),
      )
    : new ort.Tensor('float32', Float32Array.from(flat), shapeOf(value));
}

function maxAbsDiff(got: ort.Tensor, want: Nested): number {
  const w = flatten(want);
  expect(got.dims).toEqual(shapeOf(want));
  const g = got.data as Float32Array;
  let m = 0;
  for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(g[i] - w[i]));
  return m;
}

let work: string;

const converted = new Map<string, Promise<string>>();

/** `mome convert` of a variant's checkpoint (once per variant and flags); resolves with the model folder. */
function convert(variant: string, extra: string[] = []): Promise<string> {
  const out = path.join(work, `${variant}-model${extra.join('')}`);
  let p = converted.get(out);
  if (!p) {
    p = runPythonModule(
      ['convert', '--checkpoint', path.join(work, variant, 'checkpoint.pt'), '--out', out, '--vocab', VOCAB, ...extra],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ).then((code) => {
      expect(code, `mome convert ${variant} ${extra.join(' ')} exited with ${code}`).toBe(0);
      return out;
    });
    converted.set(out, p);
  }
  return p;
}

/** Runs every graph of `dir` on every reference case; returns the largest difference per output. */
async function compare(dir: string, ref: Reference): Promise<Record<string, number>> {
  const worst: Record<string, number> = {};
  for (const [graph, spec] of Object.entries(GRAPHS)) {
    const file = path.join(dir, spec.file);
    if (!fs.existsSync(file)) continue;
    const session = await ort.InferenceSession.create(file);
    try {
      expect(session.inputNames).toEqual(spec.inputs);
      expect(session.outputNames).toEqual(spec.outputs);
      for (const c of ref.cases) {
        const feeds = Object.fromEntries(spec.inputs.map((n) => [n, toTensor(n, c.inputs[n])]));
        const result = await session.run(feeds);
        for (const o of spec.outputs) {
          const d = maxAbsDiff(result[o], c.outputs[o]);
          expect(Number.isFinite(d), `${graph}.${o} batch ${c.batch} len ${c.text_len}`).toBe(true);
          worst[o] = Math.max(worst[o] ?? 0, d);
        }
      }
    } finally {
      await session.release();
    }
  }
  return worst;
}

function reference(variant: string): Reference {
  return JSON.parse(fs.readFileSync(path.join(work, variant, 'reference.json'), 'utf8')) as Reference;
}

beforeAll(() => {
  expect(fs.existsSync(VOCAB), `fixture missing: ${VOCAB}`).toBe(true);
  work = tempDir('mome-onnx-parity-');
  execFileSync(findPython(), [HELPER, work, '30522'], { env: pythonEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
}, TIMEOUT);

describe('ONNX graphs match PyTorch', () => {
  it(
    'full model (rel-pos bias, layer scale, VL experts, ITM and NLVR2 heads): every output within 1e-4',
    async () => {
      const out = await convert('full');
      const config = readModelConfig(out); // the runtime reads what the exporter wrote
      expect(config.graphs.fusion).not.toBeNull();
      expect(config.graphs.nlvr2).not.toBeNull();
      expect(config.maxTextLen).toBe(12);
      const worst = await compare(out, reference('full'));
      expect(Object.keys(worst).sort()).toEqual([
        'image_embeds',
        'itm_logits',
        'nlvr2_logits',
        'pooled',
        'text_embeds',
      ]);
      for (const [k, d] of Object.entries(worst)) expect(d, k).toBeLessThanOrEqual(1e-4);
      const graphs = fs.readdirSync(out).filter((f) => f.endsWith('.onnx'));
      const graphBytes = graphs.reduce((s, f) => s + fs.statSync(path.join(out, f)).size, 0);
      expect(graphBytes).toBeLessThan(fs.statSync(path.join(out, 'weights.bin')).size / 10);
    },
    TIMEOUT,
  );

  it(
    'shared-experts variant exports and runs within 1e-4',
    async () => {
      const out = await convert('shared');
      expect(JSON.parse(fs.readFileSync(path.join(out, 'mome.json'), 'utf8')).shared_experts).toBe(true);
      const worst = await compare(out, reference('shared'));
      expect(Object.keys(worst).length).toBe(5);
      for (const [k, d] of Object.entries(worst)) expect(d, k).toBeLessThanOrEqual(1e-4);
    },
    TIMEOUT,
  );

  it(
    'base-plus style (absolute positions, no layer scale) within 1e-4',
    async () => {
      const out = await convert('baseplus');
      const worst = await compare(out, reference('baseplus'));
      expect(Object.keys(worst).sort()).toEqual(['image_embeds', 'itm_logits', 'pooled', 'text_embeds']);
      for (const [k, d] of Object.entries(worst)) expect(d, k).toBeLessThanOrEqual(1e-4);
    },
    TIMEOUT,
  );

  it(
    'fp16 graphs (float32 in and out) run and stay close to float32 PyTorch',
    async () => {
      const out = await convert('full', ['--fp16']);
      const fp32 = fs.statSync(path.join(await convert('full'), 'weights.bin')).size;
      expect(fs.statSync(path.join(out, 'weights.bin')).size).toBeLessThan(0.6 * fp32);
      const worst = await compare(out, reference('full'));
      expect(Object.keys(worst).length).toBe(5);
      for (const [k, d] of Object.entries(worst)) expect(d, k).toBeLessThanOrEqual(2e-2);
    },
    TIMEOUT,
  );

  it(
    'the mome CLI delegates convert to Python and passes its error and exit code through',
    () => {
      const out = path.join(work, 'never-written');
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'electron/cli/main.ts', 'convert', '--checkpoint', HELPER, '--out', out, '--vocab', VOCAB],
        { cwd: REPO, encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(1);
      const error = JSON.parse(r.stderr.trim().split('\n').pop()!) as { type: string; message: string };
      expect(error.type).toBe('error');
      expect(error.message).toContain('onnx-parity.py');
      expect(fs.existsSync(out)).toBe(false);
    },
    TIMEOUT,
  );
});
