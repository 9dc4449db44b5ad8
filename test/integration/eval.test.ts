// Evaluation runs end to end on the shipped sample datasets with two small random models (exported by the
// Python package): runs stored in SQLite, the official recall protocol on the stored ranks, the cache reused
// by a second run, NLVR2 correctness, and two runs compared item by item.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalComparison, EvalItem } from '../../electron/api/schemas';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation, type EvalResult } from '../../electron/eval/run-eval';
import { findTorchPython } from '../../scripts/lib.mjs';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
afterAll(() => backend.close());

/** Random tiny models (seeded), as model folders. */
function randomModels(seeds: number[]): string[] {
  const out = tempDir('mome-eval-models-');
  const script = `import sys
from mome.config import tiny_config
from mome.export import export_model_dir
from mome.model import MomeModel, randomize_
for seed in sys.argv[3:]:
    cfg = tiny_config()
    export_model_dir(randomize_(MomeModel(cfg), int(seed)).eval(), cfg, f'{sys.argv[1]}/model{seed}', sys.argv[2],
                     provenance={'source': 'random test model'})`;
  execFileSync(findTorchPython()!, ['-c', script, out, VOCAB, ...seeds.map(String)], {
    env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python'), OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return seeds.map((s) => path.join(out, `model${s}`));
}

let models: string[];
let coco: number;
let nlvr2: number;
beforeAll(async () => {
  models = randomModels([1, 2]);
  coco = (await importDataset(backend.db, { root: path.join(repo, 'assets', 'datasets', 'coco-sample') }, quiet))
    .datasetId;
  nlvr2 = (await importDataset(backend.db, { root: path.join(repo, 'assets', 'datasets', 'nlvr2-sample') }, quiet))
    .datasetId;
}, 120_000);

const evaluate = (task: 'retrieval' | 'nlvr2', model: string, datasetId: number, split: string) =>
  runEvaluation(backend.db, { task, modelDir: model, datasetId, split, k: 10, device: 'cpu', cacheDir }, quiet);

async function allItems(runId: number, kind: EvalItem['kind']): Promise<EvalItem[]> {
  const page = (await backend.call('getEvalItems', { runId, kind, limit: 1000 })) as { items: EvalItem[] };
  return page.items;
}

describe('retrieval evaluation', () => {
  let first: EvalResult;
  it('stores per-query ranks from which the official recall follows', async () => {
    first = await evaluate('retrieval', models[0], coco, 'test');
    const captions = await allItems(first.runId, 'caption');
    const images = await allItems(first.runId, 'image');
    expect(captions).toHaveLength(first.counts.captions);
    expect(images).toHaveLength(first.counts.images);
    const recall = (xs: EvalItem[], k: number) => (100 * xs.filter((x) => x.rank! < k).length) / xs.length;
    const m = first.metrics as Record<string, number>;
    for (const k of [1, 5, 10]) {
      expect(m[`ir_r${k}`]).toBeCloseTo(recall(captions, k), 10);
      expect(m[`tr_r${k}`]).toBeCloseTo(recall(images, k), 10);
    }
    // each caption's top-k lists images by descending score
    for (const c of captions) {
      const scores = c.top!.map(([, s]) => s);
      expect(scores).toEqual([...scores].sort((x, y) => y - x));
    }
  });

  it('a second run reuses every cached embedding and gives the same metrics', async () => {
    const again = await evaluate('retrieval', models[0], coco, 'test');
    expect(again.cache).toEqual({ imageHits: first.counts.images, textHits: first.counts.captions });
    expect(again.metrics).toEqual(first.metrics);
  });

  it('compares two models on the same split: deltas and flips add up', async () => {
    const other = await evaluate('retrieval', models[1], coco, 'test');
    const cmp = (await backend.call('compareEvalRuns', { a: first.runId, b: other.runId })) as EvalComparison;
    const a = first.metrics as Record<string, number>;
    const b = other.metrics as Record<string, number>;
    for (const m of cmp.metrics) expect(m.delta).toBeCloseTo(b[m.name] - a[m.name], 10);
    // per kind, hits gained minus hits lost is the change in R@1 (captions: IR, images: TR)
    const net = (kind: string) =>
      cmp.fixed.filter((f) => f.kind === kind).length - cmp.broken.filter((f) => f.kind === kind).length;
    expect(net('caption')).toBe(Math.round(((b.ir_r1 - a.ir_r1) * first.counts.captions) / 100));
    expect(net('image')).toBe(Math.round(((b.tr_r1 - a.tr_r1) * first.counts.images) / 100));
    expect(cmp.totals.fixed + cmp.totals.broken).toBeGreaterThan(0);
    for (const f of cmp.fixed) expect(f.rankA! >= 1 && f.rankB! < 1).toBe(true);
    for (const f of cmp.broken) expect(f.rankA! < 1 && f.rankB! >= 1).toBe(true);
    expect(cmp.fixed.concat(cmp.broken).every((f) => f.text)).toBe(true);
  });

  it('refuses to compare runs of different splits, saying why', async () => {
    const val = await evaluate('retrieval', models[1], coco, 'val');
    await expect(backend.call('compareEvalRuns', { a: first.runId, b: val.runId })).rejects.toThrow(
      /differ in split \(test vs val\)/,
    );
  });
});

describe('NLVR2 evaluation', () => {
  it('accuracy follows the stored per-example probabilities; flips between two models', async () => {
    const a = await evaluate('nlvr2', models[0], nlvr2, 'dev');
    const b = await evaluate('nlvr2', models[1], nlvr2, 'dev');
    const items = await allItems(a.runId, 'nlvr2');
    const labels = new Map(
      (
        backend.db
          .prepare('SELECT identifier, label FROM nlvr2_examples WHERE dataset_id = ? AND split = ?')
          .all(nlvr2, 'dev') as { identifier: string; label: number }[]
      ).map((r) => [r.identifier, r.label === 1]),
    );
    const right = items.filter((it) => it.score! >= 0.5 === labels.get(it.key));
    expect((a.metrics as { accuracy: number }).accuracy).toBeCloseTo((100 * right.length) / items.length, 10);
    for (const it of items) expect(it.rank).toBe(right.includes(it) ? 0 : 1);
    const cmp = (await backend.call('compareEvalRuns', { a: a.runId, b: b.runId })) as EvalComparison;
    const acc = (r: EvalResult) => (r.metrics as { accuracy: number }).accuracy;
    expect(cmp.fixed.length - cmp.broken.length).toBe(Math.round(((acc(b) - acc(a)) * items.length) / 100));
  });
});
