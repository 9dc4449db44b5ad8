// Image embeddings reused across model versions: the exporter records a hash of what decides a model's image
// embeddings (image encoder graph, its weights, pre-processing) in mome.json, and the evaluation and search
// cache image embeddings under it. A version whose image side is byte-identical to its parent's (here: only the
// word embeddings changed, as a text-side fine-tune leaves it) reads every image embedding from the parent's
// cache and gives exactly the metrics of a fresh encoding; a version with a changed image side encodes again.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation } from '../../electron/eval/run-eval';
import { imageFingerprint, modelFingerprint } from '../../electron/models/model-folder';
import { findTorchPython } from '../../scripts/lib.mjs';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };

// parent; text side changed (word embeddings); image side changed (patch projection)
const SCRIPT = `import sys, torch
from mome.config import tiny_config
from mome.export import export_model_dir
from mome.model import MomeModel, randomize_
vocab, out = sys.argv[1], sys.argv[2]
cfg = tiny_config()
model = randomize_(MomeModel(cfg), 3).eval()
export_model_dir(model, cfg, out + '/parent', vocab, provenance={'source': 'random test model'})
with torch.no_grad():
    words = [p for n, p in model.named_parameters() if n.endswith('word_embeddings.weight')]
    assert len(words) == 1
    words[0].add_(0.05 * torch.randn_like(words[0]))
export_model_dir(model, cfg, out + '/text-changed', vocab, provenance={'source': 'random test model'})
with torch.no_grad():
    patch = [p for n, p in model.named_parameters() if n.endswith('patch_embed.proj.weight')]
    assert len(patch) == 1
    patch[0].add_(0.05 * torch.randn_like(patch[0]))
export_model_dir(model, cfg, out + '/image-changed', vocab, provenance={'source': 'random test model'})
`;

const models = tempDir('mome-cache-reuse-');
const dirs = { parent: '', text: '', image: '' };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
const fresh = createBackend({ home: tempDir(), mode: 'browser' });
afterAll(async () => {
  await backend.close();
  await fresh.close();
});
const datasets = new Map<typeof backend, number>();

beforeAll(async () => {
  execFileSync(findTorchPython()!, ['-c', SCRIPT, VOCAB, models], {
    env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python'), OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  Object.assign(dirs, {
    parent: path.join(models, 'parent'),
    text: path.join(models, 'text-changed'),
    image: path.join(models, 'image-changed'),
  });
  for (const b of [backend, fresh])
    datasets.set(
      b,
      (await importDataset(b.db, { root: path.join(repo, 'assets', 'datasets', 'coco-sample') }, quiet)).datasetId,
    );
}, 180_000);

const evaluate = (b: typeof backend, modelDir: string) =>
  runEvaluation(
    b.db,
    {
      task: 'retrieval',
      modelDir,
      datasetId: datasets.get(b)!,
      split: 'test',
      k: 10,
      device: 'cpu',
      cacheDir: path.join(b.home.cache, 'embeddings'),
    },
    quiet,
  );
const tower = (dir: string) =>
  (JSON.parse(fs.readFileSync(path.join(dir, 'mome.json'), 'utf8')) as { image_tower_sha256?: string })
    .image_tower_sha256;

describe('image embeddings across model versions', () => {
  it('the exporter records the image tower: the same after a text-side change, another after an image-side one', () => {
    expect(tower(dirs.parent)).toMatch(/^[0-9a-f]{64}$/);
    expect(tower(dirs.text)).toBe(tower(dirs.parent));
    expect(tower(dirs.image)).not.toBe(tower(dirs.parent));
    expect(imageFingerprint(dirs.text)).toBe(imageFingerprint(dirs.parent));
    expect(modelFingerprint(dirs.text)).not.toBe(modelFingerprint(dirs.parent));
  });

  it('a version with the same image tower reads every image embedding from the cache, with the same metrics', async () => {
    const parent = await evaluate(backend, dirs.parent);
    expect(parent.cache.imageHits).toBe(0);
    const child = await evaluate(backend, dirs.text);
    expect(child.cache.imageHits).toBe(child.counts.images);
    expect(child.cache.textHits).toBe(0); // its text side is new
    const encoded = await evaluate(fresh, dirs.text); // the same model, every embedding computed
    expect(encoded.cache.imageHits).toBe(0);
    expect(child.metrics).toEqual(encoded.metrics);
    expect(child.metrics).not.toEqual(parent.metrics);
  }, 120_000);

  it('a version with a changed image side encodes its images again', async () => {
    const changed = await evaluate(backend, dirs.image);
    expect(changed.cache.imageHits).toBe(0);
  }, 120_000);

  it('a model folder without the record keys its images by its own fingerprint', () => {
    const old = path.join(models, 'old');
    fs.cpSync(dirs.parent, old, { recursive: true });
    const meta = JSON.parse(fs.readFileSync(path.join(old, 'mome.json'), 'utf8')) as Record<string, unknown>;
    delete meta.image_tower_sha256;
    fs.writeFileSync(path.join(old, 'mome.json'), JSON.stringify(meta));
    expect(imageFingerprint(old)).toBe(modelFingerprint(old));
  });
});
