// `npm run bench -- stats`: the cost of the 95% intervals for a COCO-test-sized run (25,000 caption and 5,000
// image queries, 1,000 resamples), against the plain metric computation (recallMetrics on the same ranks) in
// the same process; then the paired interval of two such runs, and the whole on-read path as listEvalRuns
// runs it: the ranks read back from a real SQLite store (eval_items) plus the bootstrap. Then the slice finder and
// the slices that changed most between two runs, over a synthetic COCO-format test split of 5,000 images and
// 25,000 captions (annotations only) imported into a real store, with two runs' ranks stored against it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackend } from '../electron/backend/index';
import { importDataset } from '../electron/datasets/importer';
import { getEvalRun } from '../electron/eval/repository';
import { findChangedSlices, findFailureSlices } from '../electron/eval/slices';
import { runIntervals } from '../electron/eval/stats';
import {
  bootstrapRecall,
  findPython,
  pairedBootstrapRecall,
  pythonEnv,
  seededRandom,
  recallMetrics,
} from '../model-runtime/src/index';

const CAPTIONS = 25_000;
const IMAGES = 5_000;
const KS = [1, 5, 10];

/** Ranks spread like a middling model's: a quarter first, half in the top 10, the rest anywhere. */
function ranks(n: number, seed: number, of: number): Int32Array {
  const rand = seededRandom(seed);
  return Int32Array.from({ length: n }, () => {
    const u = rand() / 2 ** 32;
    return u < 0.25 ? 0 : u < 0.5 ? 1 + (rand() % 9) : 10 + (rand() % (of - 10));
  });
}

/** Median milliseconds of `reps` calls (after one warm-up call). */
function time(reps: number, f: () => unknown): number {
  f();
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    f();
    ms.push(performance.now() - t);
  }
  return +ms.sort((a, b) => a - b)[Math.floor(reps / 2)].toFixed(2);
}

type Db = ReturnType<typeof createBackend>['db'];

/** Stores a retrieval run of the given ranks; with keys, the queries are those items of dataset `datasetId`. */
function insertRun(
  db: Db,
  textRank: Int32Array,
  imageRank: Int32Array,
  keys?: { datasetId: number; captions: string[]; images: string[] },
): number {
  const metrics = recallMetrics(textRank, imageRank);
  const runId = Number(
    db
      .prepare(
        `INSERT INTO eval_runs (task, model_name, model_dir, model_version, dataset_id, split, options, metrics, provider, seconds, created_at)
         VALUES ('retrieval', 'bench', '/bench', 'v', ?, 'test', '{}', ?, 'cpu', 0, ?)`,
      )
      .run(keys?.datasetId ?? 1, JSON.stringify(metrics), new Date().toISOString()).lastInsertRowid,
  );
  const ins = db.prepare(
    'INSERT INTO eval_items (run_id, kind, item_key, rank, score, mistakenness, top) VALUES (?, ?, ?, ?, 0, 0, NULL)',
  );
  db.transaction(() => {
    textRank.forEach((r, t) => ins.run(runId, 'caption', keys ? keys.captions[t] : String(t), r));
    imageRank.forEach((r, i) => ins.run(runId, 'image', keys ? keys.images[i] : String(i), r));
  })();
  return runId;
}

/** The slice finder and the changed slices over a 5,000-image / 25,000-caption synthetic test split. */
async function benchSlices(
  dir: string,
  textRank: Int32Array,
  imageRank: Int32Array,
  textRankB: Int32Array,
  imageRankB: Int32Array,
) {
  const root = path.join(dir, 'coco');
  execFileSync(
    findPython(),
    [
      '-m',
      'mome',
      'synth',
      '--out',
      root,
      '--kind',
      'coco',
      '--size',
      String(IMAGES),
      '--split',
      `test=${IMAGES}`,
      '--images',
      'none',
      '--seed',
      '11',
    ],
    { env: pythonEnv(), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const backend = createBackend({ home: path.join(dir, 'slices-home'), mode: 'browser' });
  const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
  const { datasetId } = await importDataset(backend.db, { root }, quiet);
  const captions = (
    backend.db.prepare('SELECT sentid FROM captions WHERE dataset_id = ? ORDER BY sentid').raw(true).all(datasetId) as [
      number,
    ][]
  ).map((r) => String(r[0]));
  const images = (
    backend.db.prepare('SELECT source_id FROM images WHERE dataset_id = ? ORDER BY id').raw(true).all(datasetId) as [
      string,
    ][]
  ).map((r) => r[0]);
  const keys = { datasetId, captions, images };
  const a = insertRun(backend.db, textRank.subarray(0, captions.length), imageRank.subarray(0, images.length), keys);
  const b = insertRun(backend.db, textRankB.subarray(0, captions.length), imageRankB.subarray(0, images.length), keys);
  const timed = (f: () => unknown) => {
    const t = performance.now();
    f();
    return +(performance.now() - t).toFixed(1);
  };
  const q = { at: 5, minSupport: 30, limit: 20 };
  const coldMs = timed(() => findFailureSlices(backend.db, { runId: a, kind: 'caption', ...q }));
  const warmMs = time(3, () => findFailureSlices(backend.db, { runId: a, kind: 'caption', ...q }));
  const imageMs = time(3, () => findFailureSlices(backend.db, { runId: a, kind: 'image', ...q }));
  const changedMs = time(3, () => findChangedSlices(backend.db, { a, b, kind: 'caption', ...q }));
  await backend.close();
  return {
    what: 'findFailureSlices and findChangedSlices (IR@5, groups of ≥ 30, 1,000 resamples) over a synthetic COCO-format test split read from SQLite',
    captions: captions.length,
    images: images.length,
    failureSlicesColdMs: coldMs,
    failureSlicesMs: warmMs,
    failureSlicesImageQueriesMs: imageMs,
    changedSlicesMs: changedMs,
    budgetMs: 10_000,
    withinBudget: Math.max(coldMs, warmMs, changedMs) <= 10_000,
  };
}

function storedRun(dir: string, textRank: Int32Array, imageRank: Int32Array) {
  const backend = createBackend({ home: path.join(dir, 'home'), mode: 'browser' });
  return { backend, run: getEvalRun(backend.db, insertRun(backend.db, textRank, imageRank)) };
}

export async function benchStats(): Promise<Record<string, unknown>> {
  const textRank = ranks(CAPTIONS, 1, IMAGES);
  const imageRank = ranks(IMAGES, 2, CAPTIONS);
  const textRankB = ranks(CAPTIONS, 3, IMAGES);
  const imageRankB = ranks(IMAGES, 4, CAPTIONS);
  const baselineMs = time(20, () => recallMetrics(textRank, imageRank));
  const bootstrapMs = time(5, () => {
    bootstrapRecall(imageRank, KS);
    bootstrapRecall(textRank, KS);
  });
  const pairedMs = time(5, () => {
    pairedBootstrapRecall(imageRank, imageRankB, KS);
    pairedBootstrapRecall(textRank, textRankB, KS);
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-stats-'));
  const { backend, run } = storedRun(dir, textRank, imageRank);
  let seed = 0;
  // a new seed each call: past the per-run cache, so every call reads SQLite and resamples
  const onReadMs = time(5, () => runIntervals(backend.db, run, { resamples: 1000, seed: ++seed }));
  const cachedMs = time(20, () => runIntervals(backend.db, run, { resamples: 1000, seed }));
  await backend.close();
  const slices = await benchSlices(dir, textRank, imageRank, textRankB, imageRankB);
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    bench: 'stats',
    shape: { captions: CAPTIONS, images: IMAGES, resamples: 1000, ks: KS },
    baseline: { what: 'recallMetrics: R@1/5/10 both ways from the same ranks', ms: baselineMs },
    bootstrap: {
      what: '95% intervals of the six recalls',
      ms: bootstrapMs,
      timesBaseline: +(bootstrapMs / baselineMs).toFixed(1),
    },
    paired: { what: 'paired intervals of the six differences between two runs', ms: pairedMs },
    onRead: { what: 'runIntervals: ranks read from SQLite + bootstrap (as listEvalRuns)', ms: onReadMs },
    cached: { what: 'runIntervals again, same run and settings', ms: cachedMs },
    budgetMs: 2000,
    withinBudget: onReadMs <= 2000,
    slices,
  };
}
