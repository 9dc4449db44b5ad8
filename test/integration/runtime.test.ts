// The TypeScript runtime end to end against the official Python path on the same files: tokenizer, image
// pre-processing and ONNX Runtime sessions together (a random model exported by the Python package).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MomeModel } from '../../model-runtime/src/model/model';
import { findTorchPython } from '../../scripts/lib.mjs';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
const TEXTS = ['Two dogs play on the beach.', 'A red bus parked next to a building', 'Le café est fermé 東京', ''];
let dir: string;
let images: string[];
let ref: { image_embeds: number[][]; text_embeds: number[][]; itm_probs: number[]; nlvr2_probs: number[] };
let model: MomeModel;

beforeAll(async () => {
  dir = tempDir();
  images = [];
  const specs: [string, number, number, 'jpeg' | 'png'][] = [
    ['a.jpg', 320, 240, 'jpeg'],
    ['b.png', 200, 300, 'png'],
    ['c.jpg', 640, 427, 'jpeg'],
    ['d.png', 50, 50, 'png'],
  ];
  for (const [i, [name, w, h, fmt]] of specs.entries()) {
    const svg = `<svg width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="hsl(${i * 80},70%,50%)"/><circle cx="${w / 3}" cy="${h / 2}" r="${Math.min(w, h) / 4}" fill="white"/></svg>`;
    const file = path.join(dir, name);
    await sharp(Buffer.from(svg))[fmt]().toFile(file);
    images.push(file);
  }
  execFileSync(
    findTorchPython()!,
    [path.join(__dirname, 'helpers', 'runtime_reference.py'), dir, VOCAB, ...images, '--', ...TEXTS],
    {
      env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
  model = await MomeModel.load(path.join(dir, 'model'), { device: 'auto' });
}, 240_000);
afterAll(() => model?.release());

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
};

describe('MomeModel (TypeScript runtime) against the Python path', () => {
  it('reports the provider it runs on and why', () => {
    expect(model.provider.provider).toBe('cpu');
    expect(model.provider.reason).toMatch(/CUDA not available/);
  });

  it('image embeddings from JPEG/PNG files: cosine >= 0.999 to PyTorch on the PIL transform', async () => {
    const { embeddings, errors } = await model.encodeImages(images, { batchSize: 3 });
    expect(errors.size).toBe(0);
    const E = model.config.embedDim;
    ref.image_embeds.forEach((r, i) =>
      expect(cosine(embeddings.subarray(i * E, (i + 1) * E), r)).toBeGreaterThanOrEqual(0.999),
    );
  });

  it('text embeddings equal PyTorch (same tokenizer ids) within 1e-4', async () => {
    const t = await model.encodeTexts(TEXTS);
    const E = model.config.embedDim;
    ref.text_embeds.forEach((r, i) =>
      r.forEach((v, j) => expect(Math.abs(t[i * E + j] - v)).toBeLessThanOrEqual(1e-4)),
    );
  });

  it('ITM and NLVR2 probabilities equal PyTorch within 1e-4', async () => {
    const itm = await model.itmScores(images.map((image, i) => ({ image, text: TEXTS[i] })));
    ref.itm_probs.forEach((p, i) => expect(Math.abs(itm[i] - p)).toBeLessThanOrEqual(1e-4));
    const nl = await model.nlvr2([{ left: images[0], right: images[1], sentence: TEXTS[0] }]);
    expect(Math.abs(nl[0] - ref.nlvr2_probs[0])).toBeLessThanOrEqual(1e-4);
  });

  it('names a corrupt image and goes on with the others', async () => {
    const bad = path.join(dir, 'broken.jpg');
    fs.writeFileSync(bad, 'not an image');
    const { errors } = await model.encodeImages([images[0], bad, images[1]]);
    expect([...errors.keys()]).toEqual([1]);
    expect(errors.get(1)).toMatch(/broken\.jpg/);
  });

  it('refuses a model folder with a missing graph or a newer format, naming it', async () => {
    const copy = tempDir();
    for (const f of fs.readdirSync(path.join(dir, 'model')))
      fs.copyFileSync(path.join(dir, 'model', f), path.join(copy, f));
    fs.rmSync(path.join(copy, 'text_encoder.onnx'));
    await expect(MomeModel.load(copy)).rejects.toThrow(/missing its graph text_encoder\.onnx/);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model', 'mome.json'), 'utf8'));
    const newer = tempDir();
    fs.writeFileSync(path.join(newer, 'mome.json'), JSON.stringify({ ...json, format_version: 99 }));
    await expect(MomeModel.load(newer)).rejects.toThrow(/model format 99/);
  });

  it('the embed and run-graphs commands write what the model computes', () => {
    const out = path.join(dir, 'embed.json');
    const imgs = path.join(dir, 'imgs');
    fs.mkdirSync(imgs, { recursive: true });
    images.forEach((f) => fs.copyFileSync(f, path.join(imgs, path.basename(f))));
    fs.writeFileSync(path.join(imgs, 'zz-broken.png'), 'no');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'electron/cli/main.ts',
        'embed',
        '--model',
        path.join(dir, 'model'),
        '--images',
        imgs,
        '--out',
        out,
      ],
      {
        cwd: repo,
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const e = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(e.items.map((i: any) => i.file)).toEqual(['a.jpg', 'b.png', 'c.jpg', 'd.png']);
    expect(cosine(e.items[0].embedding, ref.image_embeds[0])).toBeGreaterThanOrEqual(0.999);
    expect(e.errors.map((x: any) => x.file)).toEqual(['zz-broken.png']);

    const inputs = path.join(dir, 'inputs.json');
    const S = model.config.imageSize;
    const px = Array.from({ length: 2 }, (_, b) =>
      Array.from({ length: 3 }, (_, c) =>
        Array.from({ length: S }, (_, y) => Array.from({ length: S }, (_, x) => Math.sin(b + c + x * 0.1 + y * 0.07))),
      ),
    );
    fs.writeFileSync(
      inputs,
      JSON.stringify({
        pixel_values: px,
        input_ids: [
          [101, 7592, 102, 0],
          [101, 102, 0, 0],
        ],
        attention_mask: [
          [1, 1, 1, 0],
          [1, 1, 0, 0],
        ],
        pixel_values_left: px,
        pixel_values_right: px,
      }),
    );
    const g = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'electron/cli/main.ts',
        'run-graphs',
        '--model',
        path.join(dir, 'model'),
        '--inputs',
        inputs,
        '--out',
        path.join(dir, 'graphs.json'),
      ],
      {
        cwd: repo,
        encoding: 'utf8',
      },
    );
    expect(g.status, g.stderr).toBe(0);
    const o = JSON.parse(fs.readFileSync(path.join(dir, 'graphs.json'), 'utf8'));
    expect(o.image_embeds).toHaveLength(2);
    expect(o.text_embeds[0]).toHaveLength(model.config.embedDim);
    expect(o.itm_logits[0]).toHaveLength(2);
    expect(o.nlvr2_logits[0]).toHaveLength(2);
  });
});
