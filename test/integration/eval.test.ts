// Evaluation runs end to end on the shipped sample datasets with two small random models (exported by the
// Python package): runs stored in SQLite, the official recall protocol on the stored ranks, the cache reused
// by a second run, NLVR2 correctness, and two runs compared item by item.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EmbeddingMap,
  EvalComparison,
  EvalItem,
  EvalItemDetail,
  EvalSummary,
  Job,
} from '../../electron/api/schemas';
import fs from 'node:fs';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation, type EvalResult } from '../../electron/eval/run-eval';
import { exportRandomModels } from './helpers/models';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
afterAll(() => backend.close());

/** Random tiny models (seeded), as model folders. */
function randomModels(seeds: number[]): string[] {
  const out = tempDir('mome-eval-models-');
  return exportRandomModels(seeds.map((seed) => ({ out: path.join(out, `model${seed}`), seed })));
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

  it('a caption in full: its image next to the top-k images with scores', async () => {
    const [worst] = (
      (await backend.call('getEvalItems', { runId: first.runId, kind: 'caption', order: 'rank', limit: 1 })) as {
        items: EvalItem[];
      }
    ).items;
    const d = (await backend.call('getEvalItemDetail', {
      runId: first.runId,
      kind: 'caption',
      key: worst.key,
    })) as EvalItemDetail;
    const own = backend.db
      .prepare(
        'SELECT i.source_id, c.raw FROM captions c JOIN images i ON i.id = c.image_id WHERE c.dataset_id = ? AND c.sentid = ?',
      )
      .get(coco, Number(worst.key)) as { source_id: string; raw: string };
    expect(d.text).toBe(own.raw);
    expect(d.truth).toEqual([expect.objectContaining({ key: own.source_id, rank: worst.rank, isTruth: true })]);
    expect(d.candidates).toHaveLength(10);
    expect(d.candidates.some((c) => c.isTruth)).toBe(worst.rank! < 10);
    for (const c of d.candidates) expect(fs.existsSync(c.path!)).toBe(true);
  });

  it('an image in full: its captions with their own ranks, and the top-k captions', async () => {
    const [img] = ((await allItems(first.runId, 'image')) as EvalItem[]).slice(3, 4);
    const d = (await backend.call('getEvalItemDetail', {
      runId: first.runId,
      kind: 'image',
      key: img.key,
    })) as EvalItemDetail;
    const captions = (await allItems(first.runId, 'caption')).filter((c) => d.truth.some((t) => t.key === c.key));
    expect(d.truth.length).toBeGreaterThan(0);
    expect(captions).toHaveLength(d.truth.length);
    for (const t of d.truth) expect(t.rank).toBe(captions.find((c) => c.key === t.key)!.rank);
    const firstOwn = d.candidates.findIndex((c) => c.isTruth);
    expect(firstOwn >= 0 ? firstOwn : null).toBe(img.rank! < 10 ? img.rank : null);
  });

  it('filters: missed at R@k and text search', async () => {
    const captions = await allItems(first.runId, 'caption');
    for (const k of [1, 5]) {
      const page = (await backend.call('getEvalItems', { runId: first.runId, kind: 'caption', minRank: k })) as {
        total: number;
      };
      expect(page.total).toBe(captions.filter((c) => c.rank! >= k).length);
    }
    const word = captions[0]
      .text!.split(' ')
      .find((w) => w.length > 3)!
      .toLowerCase();
    const found = (await backend.call('getEvalItems', {
      runId: first.runId,
      kind: 'caption',
      search: word,
      limit: 1000,
    })) as {
      items: EvalItem[];
    };
    expect(found.items.length).toBe(captions.filter((c) => c.text!.toLowerCase().includes(word)).length);
    expect(found.items.length).toBeGreaterThan(0);
  });

  it('summary: histograms of ranks and margins cover every query', async () => {
    const s = (await backend.call('getEvalSummary', { runId: first.runId })) as EvalSummary;
    const m = first.metrics as Record<string, number>;
    for (const kind of ['caption', 'image'] as const) {
      const n = kind === 'caption' ? first.counts.captions : first.counts.images;
      for (const what of ['rank', 'margin'] as const) {
        const h = s.histograms.find((x) => x.kind === kind && x.what === what)!;
        expect(h.bins.reduce((a, b) => a + b.count, 0)).toBe(n);
      }
      const firstBin = s.histograms.find((x) => x.kind === kind && x.what === 'rank')!.bins[0];
      expect((100 * firstBin.count) / n).toBeCloseTo(kind === 'caption' ? m.ir_r1 : m.tr_r1, 10);
      expect(s.missed.find((x) => x.kind === kind && x.at === 5)!.count).toBe(
        Math.round(((100 - (kind === 'caption' ? m.ir_r5 : m.tr_r5)) * n) / 100),
      );
    }
  });

  it('re-ranks the top k with ITM: k recorded, R@k kept, the dual encoder figures beside', async () => {
    const re = await runEvaluation(
      backend.db,
      {
        task: 'retrieval',
        modelDir: models[0],
        datasetId: coco,
        split: 'test',
        k: 10,
        rerankK: 10,
        device: 'cpu',
        cacheDir,
      },
      quiet,
    );
    const m = re.metrics as Record<string, number>;
    const itc = first.metrics as Record<string, number>;
    for (const key of Object.keys(itc)) expect(m[`itc_${key}`]).toBe(itc[key]);
    // re-ordering within the top 10 moves nothing in or out of it
    expect(m.ir_r10).toBe(itc.ir_r10);
    expect(m.tr_r10).toBe(itc.tr_r10);
    expect(re.counts.rerankedPairs).toBeGreaterThanOrEqual(first.counts.captions * 10);
    const run = (await backend.call('listEvalRuns', {})) as { id: number; options: Record<string, unknown> }[];
    expect(run.find((r) => r.id === re.runId)!.options).toMatchObject({ rerank: 'itm', rerankK: 10 });
    for (const c of await allItems(re.runId, 'caption')) {
      const p = c.top!.map(([, s]) => s);
      expect(p.every((x) => x >= 0 && x <= 1)).toBe(true);
      expect(p).toEqual([...p].sort((x, y) => y - x));
    }
  });

  it('maps a sample of image and caption embeddings to 2-D, each point with its split and rank', async () => {
    const map = (await backend.call('getEmbeddingMap', { runId: first.runId, maxPoints: 60 })) as EmbeddingMap;
    expect(map.total).toBe(first.counts.images + first.counts.captions);
    expect(map.points).toHaveLength(60);
    const kinds = new Set(map.points.map((p) => p.kind));
    expect(kinds).toEqual(new Set(['image', 'caption']));
    const ranks = new Map(
      [...(await allItems(first.runId, 'caption')), ...(await allItems(first.runId, 'image'))].map((x) => [
        `${x.kind}:${x.key}`,
        x.rank,
      ]),
    );
    for (const p of map.points) {
      expect(p.rank).toBe(ranks.get(`${p.kind}:${p.key}`));
      expect(p.split).toBe('test');
      expect(Number.isFinite(p.x) && Number.isFinite(p.y)).toBe(true);
    }
    expect(new Set(map.points.map((p) => p.x.toFixed(4))).size).toBeGreaterThan(50); // spread out, not collapsed
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
    const s = (await backend.call('getEvalSummary', { runId: a.runId })) as EvalSummary;
    const c = s.confusion!;
    expect(c.trueTrue + c.falseFalse).toBe(right.length);
    expect(c.trueTrue + c.trueFalse).toBe([...labels.values()].filter(Boolean).length);
    const wrong = items.find((it) => it.rank === 1);
    if (wrong) {
      const d = (await backend.call('getEvalItemDetail', {
        runId: a.runId,
        kind: 'nlvr2',
        key: wrong.key,
      })) as EvalItemDetail;
      expect(d.nlvr2!.label).toBe(labels.get(wrong.key));
      expect(d.nlvr2!.prediction).toBe(!labels.get(wrong.key));
      expect(fs.existsSync(d.nlvr2!.leftPath) && fs.existsSync(d.nlvr2!.rightPath)).toBe(true);
    }
    const cmp = (await backend.call('compareEvalRuns', { a: a.runId, b: b.runId })) as EvalComparison;
    const acc = (r: EvalResult) => (r.metrics as { accuracy: number }).accuracy;
    expect(cmp.fixed.length - cmp.broken.length).toBe(Math.round(((acc(b) - acc(a)) * items.length) / 100));
  });
});

describe('every split together', () => {
  it('ranks the likely label errors of the whole dataset', async () => {
    const all = await evaluate('retrieval', models[0], coco, '*');
    const n = backend.db.prepare('SELECT count(*) AS n FROM captions WHERE dataset_id = ?').get(coco) as { n: number };
    expect(all.counts.captions).toBe(n.n);
    expect(all.mistakes.length).toBe(Math.min(1000, n.n));
    const scores = all.mistakes.map((x) => x.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    const page = (await backend.call('getEvalItems', { runId: all.runId, kind: 'caption', limit: 1000 })) as {
      items: EvalItem[];
    };
    expect(new Set(page.items.map((x) => x.split))).toEqual(new Set(['train', 'restval', 'val', 'test']));
  });
});

describe('the user corrections count', () => {
  it('a flipped NLVR2 label and a caption moved to another image are what the next run scores', async () => {
    const before = await evaluate('nlvr2', models[0], nlvr2, 'dev');
    const [first] = await allItems(before.runId, 'nlvr2');
    const label = (
      backend.db
        .prepare('SELECT label FROM nlvr2_examples WHERE dataset_id = ? AND identifier = ?')
        .get(nlvr2, first.key) as { label: number }
    ).label;
    await backend.call('editLabels', {
      edits: [{ datasetId: nlvr2, kind: 'nlvr2', key: first.key, field: 'label', value: label !== 1 }],
    });
    const after = await evaluate('nlvr2', models[0], nlvr2, 'dev');
    const flipped = (await allItems(after.runId, 'nlvr2')).find((x) => x.key === first.key)!;
    expect(flipped.rank).toBe(1 - first.rank!);
    const n = before.counts.examples;
    const acc = (r: EvalResult) => (r.metrics as { accuracy: number }).accuracy;
    expect(acc(after) - acc(before)).toBeCloseTo((100 * (first.rank === 1 ? 1 : -1)) / n, 10);
    const d = (await backend.call('getEvalItemDetail', {
      runId: after.runId,
      kind: 'nlvr2',
      key: first.key,
    })) as EvalItemDetail;
    expect(d.nlvr2!.label).toBe(label !== 1);

    // a test caption moved to another test image: that image is its truth now
    const images = backend.db
      .prepare(`SELECT source_id FROM images WHERE dataset_id = ? AND split = 'test' ORDER BY id LIMIT 2`)
      .all(coco) as { source_id: string }[];
    const cap = backend.db
      .prepare(
        `SELECT c.sentid FROM captions c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = ? AND i.source_id = ? LIMIT 1`,
      )
      .get(coco, images[0].source_id) as { sentid: number };
    await backend.call('editLabels', {
      edits: [
        { datasetId: coco, kind: 'caption', key: String(cap.sentid), field: 'image', value: images[1].source_id },
      ],
    });
    const moved = await evaluate('retrieval', models[0], coco, 'test');
    const md = (await backend.call('getEvalItemDetail', {
      runId: moved.runId,
      kind: 'caption',
      key: String(cap.sentid),
    })) as EvalItemDetail;
    expect(md.truth[0].key).toBe(images[1].source_id);
    const img = (await backend.call('getEvalItemDetail', {
      runId: moved.runId,
      kind: 'image',
      key: images[1].source_id,
    })) as EvalItemDetail;
    expect(img.truth.map((t) => t.key)).toContain(String(cap.sentid));
    // and the image it left no longer lists it
    const left = (await backend.call('getEvalItemDetail', {
      runId: moved.runId,
      kind: 'image',
      key: images[0].source_id,
    })) as EvalItemDetail;
    expect(left.truth.length).toBeGreaterThan(0);
    expect(left.truth.map((t) => t.key)).not.toContain(String(cap.sentid));
  });
});

describe('an evaluation job', () => {
  it('runs from the API with progress, and cancel stops it without a run', async () => {
    const runsBefore = ((await backend.call('listEvalRuns', {})) as unknown[]).length;
    const job = (await backend.call('startEvaluation', {
      task: 'retrieval',
      datasetId: coco,
      split: '*',
      modelDir: models[1],
      device: 'cpu',
    })) as Job;
    await new Promise<void>((resolve) => {
      const off = backend.events.on('jobProgress', (j) => {
        if (j.id === job.id && /Encoding/.test(j.message)) {
          off();
          resolve();
        }
      });
    });
    await backend.call('cancelJob', { id: job.id });
    const done = await backend.jobs.wait(job.id);
    expect(done.state).toBe('cancelled');
    expect(((await backend.call('listEvalRuns', {})) as unknown[]).length).toBe(runsBefore);
  });
});
