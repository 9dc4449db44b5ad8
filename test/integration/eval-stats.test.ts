// Intervals and significance on real runs (two small random models on the shipped samples, real SQLite):
// every metric of a listed run carries a 95% bootstrap interval around it, computed from the stored ranks;
// compared runs carry the paired difference, its interval, a label and for NLVR2 the exact McNemar test
// that agrees with the flipped examples; `mome eval --json` writes ci95.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChangedSlices,
  EvalComparison,
  EvalItem,
  EvalRun,
  FailureSlices,
  ModelCard,
} from '../../electron/api/schemas';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation } from '../../electron/eval/run-eval';
import { embeddingClusters } from '../../electron/eval/clusters';
import { aspectOf, imageShapes, sizeOf } from '../../electron/eval/image-shapes';
import { CATEGORIES, words } from '../../electron/eval/slices';
import { mcnemarExact } from '../../model-runtime/src/retrieval/bootstrap';
import { fineTune, importModel, randomModelDir } from './helpers/finetune';
import { exportRandomModels } from './helpers/models';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const home = tempDir();
const backend = createBackend({ home, mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
afterAll(() => backend.close());

let models: string[];
let coco: number;
let nlvr2: number;
beforeAll(async () => {
  const out = tempDir('mome-stats-models-');
  models = exportRandomModels([1, 2].map((seed) => ({ out: path.join(out, `model${seed}`), seed })));
  coco = (await importDataset(backend.db, { root: path.join(repo, 'assets', 'datasets', 'coco-sample') }, quiet))
    .datasetId;
  nlvr2 = (await importDataset(backend.db, { root: path.join(repo, 'assets', 'datasets', 'nlvr2-sample') }, quiet))
    .datasetId;
}, 180_000);

const evaluate = (task: 'retrieval' | 'nlvr2', model: string, datasetId: number, split: string) =>
  runEvaluation(backend.db, { task, modelDir: model, datasetId, split, k: 10, device: 'cpu', cacheDir }, quiet);
const runs = async (q: { datasetId: number; resamples?: number; seed?: number }) =>
  (await backend.call('listEvalRuns', q)) as EvalRun[];

describe('intervals on every metric of a run', () => {
  it('retrieval: TR and IR R@1/5/10 each inside its 95% interval, reproducible, resamples configurable', async () => {
    const { runId } = await evaluate('retrieval', models[0], coco, 'test');
    const run = (await runs({ datasetId: coco })).find((r) => r.id === runId)!;
    expect(Object.keys(run.ci95!).sort()).toEqual(Object.keys(run.metrics).sort());
    expect(run.bootstrap).toEqual({ resamples: 1000, seed: 0 });
    for (const [name, [lo, hi]] of Object.entries(run.ci95!)) {
      expect(lo, name).toBeLessThanOrEqual(run.metrics[name]);
      expect(hi, name).toBeGreaterThanOrEqual(run.metrics[name]);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(100);
    }
    // the intervals widen with fewer queries: TR (image queries) is wider than IR (five captions per image)
    const width = (name: string) => run.ci95![name][1] - run.ci95![name][0];
    if (run.metrics.tr_r10 > 5 && run.metrics.ir_r10 > 5) expect(width('tr_r10')).toBeGreaterThan(width('ir_r10'));
    const again = (await runs({ datasetId: coco })).find((r) => r.id === runId)!;
    expect(again.ci95).toEqual(run.ci95);
    const other = (await runs({ datasetId: coco, resamples: 200, seed: 3 })).find((r) => r.id === runId)!;
    expect(other.bootstrap).toEqual({ resamples: 200, seed: 3 });
    expect(Object.keys(other.ci95!).sort()).toEqual(Object.keys(run.ci95!).sort());
  });

  it('NLVR2: accuracy inside its interval', async () => {
    const { runId } = await evaluate('nlvr2', models[0], nlvr2, 'dev');
    const run = (await runs({ datasetId: nlvr2 })).find((r) => r.id === runId)!;
    const [lo, hi] = run.ci95!.accuracy;
    expect(lo).toBeLessThanOrEqual(run.metrics.accuracy);
    expect(hi).toBeGreaterThanOrEqual(run.metrics.accuracy);
    expect(hi - lo).toBeGreaterThan(0);
  });
});

describe('significance of differences between two runs', () => {
  it('a run against itself: every difference 0, no detectable difference', async () => {
    const { runId } = await evaluate('retrieval', models[0], coco, 'test');
    const cmp = (await backend.call('compareEvalRuns', { a: runId, b: runId })) as EvalComparison;
    expect(cmp.differences!.map((d) => d.name).sort()).toEqual(
      ['ir_r1', 'ir_r10', 'ir_r5', 'tr_r1', 'tr_r10', 'tr_r5'].sort(),
    );
    for (const d of cmp.differences!) {
      expect(d.delta).toBe(0);
      expect(d.ci95).toEqual([0, 0]);
      expect(d.label).toBe('no detectable difference at 95%');
    }
  });

  it('two models: each Δ is b − a over the same queries, inside its interval, labelled by it', async () => {
    const a = await evaluate('retrieval', models[0], coco, 'test');
    const b = await evaluate('retrieval', models[1], coco, 'test');
    const cmp = (await backend.call('compareEvalRuns', { a: a.runId, b: b.runId })) as EvalComparison;
    for (const d of cmp.differences!) {
      const plain = cmp.metrics.find((m) => m.name === d.name)!;
      expect(d.delta, d.name).toBeCloseTo(plain.delta!, 3); // same queries in both runs here
      expect(d.ci95[0]).toBeLessThanOrEqual(d.delta);
      expect(d.ci95[1]).toBeGreaterThanOrEqual(d.delta);
      const expected = d.ci95[0] > 0 ? 'better' : d.ci95[1] < 0 ? 'worse' : 'no detectable difference at 95%';
      expect(d.label).toBe(expected);
      expect(d.queries).toBe(d.name.startsWith('ir') ? a.counts.captions : a.counts.images);
    }
  });

  it('NLVR2: the exact McNemar test on the examples fixed and broken decides the label', async () => {
    const a = await evaluate('nlvr2', models[0], nlvr2, 'dev');
    const b = await evaluate('nlvr2', models[1], nlvr2, 'dev');
    const cmp = (await backend.call('compareEvalRuns', { a: a.runId, b: b.runId })) as EvalComparison;
    const [acc] = cmp.differences!;
    expect(acc.name).toBe('accuracy');
    expect(acc.mcnemar!.rightOnlyInB).toBe(cmp.totals.fixed);
    expect(acc.mcnemar!.rightOnlyInA).toBe(cmp.totals.broken);
    expect(acc.mcnemar!.p).toBeCloseTo(mcnemarExact(cmp.totals.broken, cmp.totals.fixed), 12);
    expect(acc.delta).toBeCloseTo((100 * (cmp.totals.fixed - cmp.totals.broken)) / acc.queries, 3);
    const { p } = acc.mcnemar!;
    expect(acc.label).toBe(
      p >= 0.05 ? 'no detectable difference at 95%' : cmp.totals.fixed > cmp.totals.broken ? 'better' : 'worse',
    );
  });
});

describe('failure slices', () => {
  const slicesOf = async (q: Record<string, unknown>) => (await backend.call('findFailureSlices', q)) as FailureSlices;

  it('caption groups that do worst at IR R@5, each at least minSupport strong, as the stored ranks say', async () => {
    const { runId } = await evaluate('retrieval', models[0], coco, 'test');
    const s = await slicesOf({ runId, at: 5, minSupport: 8 });
    expect(s.metric).toBe('ir_r5');
    const run = (await runs({ datasetId: coco })).find((r) => r.id === runId)!;
    expect(s.whole.metric).toBeCloseTo(run.metrics.ir_r5, 3);
    expect(s.slices.length).toBeGreaterThan(0);
    const page = (await backend.call('getEvalItems', { runId, kind: 'caption', limit: 1000 })) as {
      items: EvalItem[];
    };
    for (const sl of s.slices) {
      expect(sl.size).toBeGreaterThanOrEqual(8);
      expect(sl.metric).toBeLessThan(s.whole.metric);
      expect(sl.gap).toBeCloseTo(sl.metric - s.whole.metric, 3);
      expect(sl.ci95[0]).toBeLessThanOrEqual(sl.metric);
      expect(sl.ci95[1]).toBeGreaterThanOrEqual(sl.metric);
      expect(sl.gapCi95[0]).toBeLessThanOrEqual(sl.gap);
      expect(sl.gapCi95[1]).toBeGreaterThanOrEqual(sl.gap);
      // the group recounted from the items: its size and its missed queries
      const member = (x: EvalItem) => {
        const ws = words(x.text ?? '');
        if (sl.feature === 'word') return ws.includes(sl.value);
        if (sl.feature === 'bigram') return ws.some((w, i) => `${w} ${ws[i + 1]}` === sl.value);
        if (sl.feature === 'category') return ws.some((w) => CATEGORIES[sl.value].includes(w));
        return true;
      };
      if (sl.feature === 'word' || sl.feature === 'bigram' || sl.feature === 'category') {
        const members = page.items.filter(member);
        expect(members.length, sl.label).toBe(sl.size);
        expect(members.filter((x) => x.rank! >= 5).length).toBe(sl.missedCount);
      }
      for (const m of sl.missed) expect(m.rank).toBeGreaterThanOrEqual(5);
    }
    // ordered by the gap's family-wise bound (Bonferroni over the groups tested): the surest shortfall first;
    // the bound allows for more than one group's interval does
    const bounds = s.slices.map((x) => x.gapBound);
    expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
    expect(s.tested).toBeGreaterThanOrEqual(s.slices.length);
    for (const sl of s.slices) expect(sl.gapBound).toBeGreaterThanOrEqual(sl.gap);
  });

  it("embedding clusters: every caption query in one cluster of the model's embeddings, as the slices count them", async () => {
    const { runId } = await evaluate('retrieval', models[0], coco, 'test');
    const clusters = (await embeddingClusters(backend.db, cacheDir, runId, 'caption'))!;
    const page = (await backend.call('getEvalItems', { runId, kind: 'caption', limit: 1000 })) as {
      items: EvalItem[];
    };
    expect(clusters.size).toBe(page.items.length); // every caption's embedding is in the cache
    const names = new Set(clusters.values());
    expect(names.size).toBe(Math.max(2, Math.min(24, Math.round(Math.sqrt(page.items.length / 20)))));
    const s = await slicesOf({ runId, at: 5, minSupport: 5, limit: 200 });
    const clusterSlices = s.slices.filter((x) => x.feature === 'cluster');
    expect(clusterSlices.length).toBeGreaterThan(0); // of two clusters one does worse than the whole
    for (const sl of clusterSlices) {
      const members = page.items.filter((x) => clusters.get(x.key) === sl.value);
      expect(members.length, sl.label).toBe(sl.size);
      expect(members.filter((x) => x.rank! >= 5).length).toBe(sl.missedCount);
      expect(sl.label).toBe(`caption in embedding cluster ${sl.value}`);
    }
    // an NLVR2 run has no embeddings to cluster
    const nl = await evaluate('nlvr2', models[0], nlvr2, 'dev');
    expect(await embeddingClusters(backend.db, cacheDir, nl.runId, 'nlvr2')).toBeNull();
  });

  it("image aspect and size: each query grouped by its image's shape, as the image files' headers say", async () => {
    const { runId } = await evaluate('retrieval', models[0], coco, 'test');
    const shapes = (await imageShapes(backend.db, runId))!;
    const rows = backend.db
      .prepare(
        `SELECT c.sentid AS key, i.file FROM captions c JOIN images i ON i.id = c.image_id
         WHERE i.dataset_id = ? AND i.split = 'test'`,
      )
      .all(coco) as { key: number; file: string }[];
    const files = [...new Set(rows.map((r) => r.file))];
    // the sizes as Pillow reads them (another decoder than the app's)
    const root = path.join(repo, 'assets', 'datasets', 'coco-sample');
    const pil = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, json\nfrom PIL import Image\nprint(json.dumps([Image.open(f).size for f in sys.argv[1:]]))',
        ...files.map((f) => path.join(root, f)),
      ],
      { encoding: 'utf8' },
    );
    const sizes = JSON.parse(pil.stdout) as [number, number][];
    files.forEach((f, i) =>
      expect(shapes.get(f), f).toEqual({ aspect: aspectOf(...sizes[i]), size: sizeOf(...sizes[i]) }),
    );
    expect(new Set([...shapes.values()].map((x) => x.aspect)).size).toBeGreaterThan(1);
    const s = await slicesOf({ runId, at: 5, minSupport: 5, limit: 200 });
    const page = (await backend.call('getEvalItems', { runId, kind: 'caption', limit: 1000 })) as {
      items: EvalItem[];
    };
    const fileOf = new Map(rows.map((r) => [String(r.key), r.file]));
    for (const sl of s.slices.filter((x) => x.feature === 'aspect' || x.feature === 'size')) {
      const members = page.items.filter(
        (x) => shapes.get(fileOf.get(x.key)!)![sl.feature as 'aspect' | 'size'] === sl.value,
      );
      expect(members.length, sl.label).toBe(sl.size);
      expect(sl.label).toBe(`caption of a ${sl.value} image`);
    }
  });

  it('NLVR2 statements by word and length; a minimum support above every group leaves none', async () => {
    const { runId } = await evaluate('nlvr2', models[0], nlvr2, 'dev');
    const s = await slicesOf({ runId, minSupport: 5 });
    expect(s.metric).toBe('accuracy');
    for (const sl of s.slices) expect(['word', 'bigram', 'category', 'length', 'split']).toContain(sl.feature); // no clusters
    expect((await slicesOf({ runId, minSupport: 100_000 })).slices).toEqual([]);
  });
});

describe('slices that changed most between two runs', () => {
  const changedOf = async (q: Record<string, unknown>) => (await backend.call('findChangedSlices', q)) as ChangedSlices;
  const items = async (runId: number) =>
    ((await backend.call('getEvalItems', { runId, kind: 'caption', limit: 1000 })) as { items: EvalItem[] }).items;

  it("each group's Δ, fixed and broken counts as both runs' stored ranks say, surest change first", async () => {
    const a = await evaluate('retrieval', models[0], coco, 'test');
    const b = await evaluate('retrieval', models[1], coco, 'test');
    const c = await changedOf({ a: a.runId, b: b.runId, at: 5, minSupport: 8 });
    expect(c.metric).toBe('ir_r5');
    const [ia, ib] = [await items(a.runId), await items(b.runId)];
    const rankA = new Map(ia.map((x) => [x.key, x.rank!]));
    expect(c.queries).toBe(ib.length);
    const cmp = (await backend.call('compareEvalRuns', { a: a.runId, b: b.runId })) as EvalComparison;
    expect(c.whole.delta).toBeCloseTo(cmp.differences!.find((d) => d.name === 'ir_r5')!.delta, 3);
    expect(c.fixed.length + c.broke.length).toBeGreaterThan(0);
    for (const sl of [...c.fixed, ...c.broke]) {
      expect(sl.size).toBeGreaterThanOrEqual(8);
      expect(sl.delta).toBeCloseTo(sl.b - sl.a, 3);
      expect(sl.delta).toBeCloseTo((100 * (sl.fixedCount - sl.brokenCount)) / sl.size, 3);
      expect(sl.ci95[0]).toBeLessThanOrEqual(sl.delta);
      expect(sl.ci95[1]).toBeGreaterThanOrEqual(sl.delta);
      const expected = sl.ci95[0] > 0 ? 'better' : sl.ci95[1] < 0 ? 'worse' : 'no detectable difference at 95%';
      expect(sl.significance).toBe(expected);
      if (sl.feature !== 'word' && sl.feature !== 'bigram') continue;
      // the group recounted from both runs' items
      const members = ib.filter((x) => {
        const ws = words(x.text ?? '');
        return sl.feature === 'word' ? ws.includes(sl.value) : ws.some((w, i) => `${w} ${ws[i + 1]}` === sl.value);
      });
      expect(members.length, sl.label).toBe(sl.size);
      const fixed = members.filter((x) => x.rank! < 5 && rankA.get(x.key)! >= 5);
      const broken = members.filter((x) => x.rank! >= 5 && rankA.get(x.key)! < 5);
      expect(fixed.length, sl.label).toBe(sl.fixedCount);
      expect(broken.length, sl.label).toBe(sl.brokenCount);
      for (const m of sl.fixedItems) expect(m.rankB < 5 && m.rankA >= 5).toBe(true);
      for (const m of sl.brokenItems) expect(m.rankA < 5 && m.rankB >= 5).toBe(true);
    }
    for (const sl of c.fixed) expect(sl.delta).toBeGreaterThan(0);
    for (const sl of c.broke) expect(sl.delta).toBeLessThan(0);
    // ordered by the end of the family-wise bound nearest 0: the surest change first
    const up = c.fixed.map((x) => x.deltaBound);
    expect(up).toEqual([...up].sort((x, y) => y - x));
    const down = c.broke.map((x) => x.deltaBound);
    expect(down).toEqual([...down].sort((x, y) => x - y));
  });

  it('a run against itself changed nothing; runs of different splits are refused', async () => {
    const a = await evaluate('retrieval', models[0], coco, 'test');
    const same = await changedOf({ a: a.runId, b: a.runId, minSupport: 5 });
    expect(same.fixed).toEqual([]);
    expect(same.broke).toEqual([]);
    expect(same.whole.delta).toBe(0);
    const other = await evaluate('retrieval', models[0], coco, 'val');
    await expect(changedOf({ a: a.runId, b: other.runId })).rejects.toThrow(/differ in split/);
  });
});

describe('a fine-tune', () => {
  it('records the new version against its parent on the held-out split: Δ, interval, label, McNemar', async () => {
    const baseModelId = await importModel(backend, randomModelDir(path.join(tempDir(), 'ft-base')));
    const ft = await fineTune(backend, { datasetId: nlvr2, baseModelId, maxSteps: 2, batchSize: 8 });
    type HeldOut = {
      split: string;
      beforeRunId: number;
      afterRunId: number;
      differences: EvalComparison['differences'];
    };
    const held = (ft.job.result as { heldOut: HeldOut }).heldOut;
    expect(held).toMatchObject({ split: 'dev', beforeRunId: ft.beforeRunId, afterRunId: ft.afterRunId });
    const cmp = (await backend.call('compareEvalRuns', { a: ft.beforeRunId!, b: ft.afterRunId! })) as EvalComparison;
    expect(held.differences).toEqual(cmp.differences);
    const [acc] = held.differences!;
    expect(acc.name).toBe('accuracy');
    expect(acc.mcnemar).toBeDefined();
    expect(['better', 'worse', 'no detectable difference at 95%']).toContain(acc.label);
    // the new version's card carries the same record of its lineage; its parent's card none
    const card = (await backend.call('getModelCard', { id: ft.modelId! })) as ModelCard;
    expect(card.heldOut).toEqual({
      jobId: ft.jobId,
      split: 'dev',
      beforeRunId: ft.beforeRunId,
      afterRunId: ft.afterRunId,
      differences: held.differences,
    });
    expect(((await backend.call('getModelCard', { id: baseModelId })) as ModelCard).heldOut).toBeNull();
  }, 300_000);
});

describe('mome eval --json', () => {
  it('writes ci95 with an interval for every metric, named as the metrics are', () => {
    const out = path.join(tempDir(), 'eval.json');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'electron/cli/main.ts',
        'eval',
        'retrieval',
        '--model',
        models[0],
        '--dataset',
        path.join(repo, 'assets', 'datasets', 'coco-sample'),
        '--json',
        out,
        '--resamples',
        '500',
        '--seed',
        '1',
      ],
      { cwd: repo, encoding: 'utf8', env: { ...process.env, MOME_HOME: tempDir() } },
    );
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(Object.keys(j.ci95).sort()).toEqual(Object.keys(j.metrics).sort());
    expect(j.bootstrap).toEqual({ resamples: 500, seed: 1 });
    for (const [name, [lo, hi]] of Object.entries(j.ci95 as Record<string, [number, number]>)) {
      expect(lo).toBeLessThanOrEqual(j.metrics[name]);
      expect(hi).toBeGreaterThanOrEqual(j.metrics[name]);
    }
    expect(JSON.parse(r.stdout).ci95).toEqual(j.ci95);
  }, 120_000);
});
