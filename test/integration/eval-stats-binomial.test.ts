// The intervals a user reads are as wide as statistics says they should be: on a large synthetic run stored
// in a real SQLite home (a COCO-test-sized retrieval run, 25,000 caption and 5,000 image queries, and a
// 7,000-example NLVR2 run, at known hit rates), every interval listEvalRuns returns is compared with the
// binomial (normal-approximation) width 2·1.96·√(p(1−p)/n) of the same metric over the same n queries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalRun } from '../../electron/api/schemas';
import { createBackend } from '../../electron/backend/index';
import { seededRandom } from '../../model-runtime/src/retrieval/bootstrap';
import { tempDir } from './helpers/temp';

const backend = createBackend({ home: tempDir(), mode: 'browser' });
afterAll(() => backend.close());

/** n ranks whose R@1, R@5, R@10 are about p1, p5, p10 (seeded): a mid-strength model's spread. */
function syntheticRanks(n: number, seed: number, [p1, p5, p10]: number[], of: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const u = rand() / 2 ** 32;
    return u < p1 ? 0 : u < p5 ? 1 + (rand() % 4) : u < p10 ? 5 + (rand() % 5) : 10 + (rand() % (of - 10));
  });
}

/** A run stored as the evaluation job stores one: its row and one eval_items row per query. */
function storeRun(task: 'retrieval' | 'nlvr2', items: Record<string, number[]>): number {
  const db = backend.db;
  const metrics: Record<string, number> = {};
  const recall = (r: number[], k: number) => (100 * r.filter((x) => x < k).length) / r.length;
  if (task === 'retrieval')
    for (const k of [1, 5, 10]) {
      metrics[`tr_r${k}`] = recall(items.image, k);
      metrics[`ir_r${k}`] = recall(items.caption, k);
    }
  else metrics.accuracy = recall(items.nlvr2, 1);
  const runId = Number(
    db
      .prepare(
        `INSERT INTO eval_runs (task, model_name, model_dir, model_version, dataset_id, split, options, metrics, provider, seconds, created_at)
         VALUES (?, 'synthetic', '/synthetic', 'v1', 1, 'test', '{}', ?, 'cpu', 0, ?)`,
      )
      .run(task, JSON.stringify(metrics), new Date().toISOString()).lastInsertRowid,
  );
  const ins = db.prepare(
    'INSERT INTO eval_items (run_id, kind, item_key, rank, score, mistakenness, top) VALUES (?, ?, ?, ?, 0, 0, NULL)',
  );
  db.transaction(() => {
    for (const [kind, ranks] of Object.entries(items)) ranks.forEach((r, i) => ins.run(runId, kind, String(i), r));
  })();
  return runId;
}

/** Width of the normal-approximation binomial interval of a percentage over n queries, in points. */
const binomialWidth = (percent: number, n: number) => {
  const p = percent / 100;
  return 100 * 2 * 1.96 * Math.sqrt((p * (1 - p)) / n);
};

let retrieval: EvalRun;
let nlvr2: EvalRun;
beforeAll(async () => {
  const retrievalId = storeRun('retrieval', {
    caption: syntheticRanks(25_000, 1, [0.3, 0.55, 0.67], 5_000),
    image: syntheticRanks(5_000, 2, [0.42, 0.71, 0.81], 25_000),
  });
  const rand = seededRandom(3);
  const nlvr2Id = storeRun('nlvr2', { nlvr2: Array.from({ length: 7_000 }, () => (rand() / 2 ** 32 < 0.74 ? 0 : 1)) });
  const runs = (await backend.call('listEvalRuns', {})) as EvalRun[];
  retrieval = runs.find((r) => r.id === retrievalId)!;
  nlvr2 = runs.find((r) => r.id === nlvr2Id)!;
}, 120_000);

describe('bootstrap intervals against the binomial formula on a large synthetic run', () => {
  const check = (run: EvalRun, name: string, n: number) => {
    const [lo, hi] = run.ci95![name];
    const width = hi - lo;
    const expected = binomialWidth(run.metrics[name], n);
    const gap = Math.abs(width - expected) / expected;
    console.log(
      `${name}: ${run.metrics[name].toFixed(2)}% over ${n} queries, bootstrap width ${width.toFixed(3)} vs binomial ${expected.toFixed(3)} (${(100 * gap).toFixed(1)}% apart)`,
    );
    expect(gap, name).toBeLessThan(0.25);
    // centred on the estimate as the binomial interval is: neither end more than a third further than the other
    const [below, above] = [run.metrics[name] - lo, hi - run.metrics[name]];
    expect(Math.max(below, above) / Math.min(below, above), name).toBeLessThan(1.34);
  };

  it('IR R@1/5/10 over 25,000 caption queries', () => {
    expect(retrieval.bootstrap).toEqual({ resamples: 1000, seed: 0 });
    for (const name of ['ir_r1', 'ir_r5', 'ir_r10']) check(retrieval, name, 25_000);
  });

  it('TR R@1/5/10 over 5,000 image queries: wider than IR, by about √5', () => {
    for (const name of ['tr_r1', 'tr_r5', 'tr_r10']) check(retrieval, name, 5_000);
    const width = (name: string) => retrieval.ci95![name][1] - retrieval.ci95![name][0];
    expect(width('tr_r10')).toBeGreaterThan(width('ir_r10'));
  });

  it('NLVR2 accuracy over 7,000 examples', () => {
    check(nlvr2, 'accuracy', 7_000);
  });
});
