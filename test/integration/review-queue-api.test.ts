// The Review view's queue through the API (real SQLite, the shipped tiny model): every evaluated query once, in
// the order of review-score's functions; a decision made from the Review view drops its item and counts as decided,
// its undo brings it back; weights change the order; a newer evaluation of the active model re-scores the queue.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewQueue } from '../../electron/api/schemas';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { ALL_SPLITS, runEvaluation } from '../../electron/eval/run-eval';
import { decisionEdits } from '../../electron/api/review-decisions';
import { REVIEW_VIEW } from '../../electron/eval/review-queue';
import { reviewEmbeddings } from '../../electron/eval/review-embeddings';
import { combineScores, marginUncertainty, orderQueue } from '../../electron/eval/review-score';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const modelDir = path.join(repo, 'assets', 'models', 'mome-tiny');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
afterAll(() => backend.close());

let datasetId: number;
let runId: number;
const queue = async (q: Record<string, unknown> = {}) =>
  (await backend.call('getReviewQueue', { datasetId, ...q })) as ReviewQueue;
const evaluate = async () =>
  (
    await runEvaluation(
      backend.db,
      {
        task: 'retrieval',
        modelDir,
        datasetId,
        split: ALL_SPLITS,
        device: 'cpu',
        cacheDir: path.join(backend.home.cache, 'embeddings'),
      },
      quiet,
    )
  ).runId;

beforeAll(async () => {
  const root = path.join(repo, 'assets', 'datasets', 'flickr30k-sample');
  datasetId = (await importDataset(backend.db, { root }, quiet)).datasetId;
  runId = await evaluate();
}, 300_000);

describe('getReviewQueue', () => {
  it('has no queue before an evaluation, and says so', async () => {
    const root = path.join(repo, 'assets', 'datasets', 'coco-sample');
    const other = (await importDataset(backend.db, { root }, quiet)).datasetId;
    const q = (await backend.call('getReviewQueue', { datasetId: other })) as ReviewQueue;
    expect(q.run).toBeNull();
    expect(q.items).toEqual([]);
    await expect(backend.call('getReviewQueue', { datasetId: 999_999 })).rejects.toThrow();
  });

  it('every caption of the run once, in the order of the review scores', async () => {
    const q = await queue({ limit: 500 });
    expect(q.run?.id).toBe(runId);
    const rows = backend.db
      .prepare("SELECT item_key, mistakenness FROM eval_items WHERE run_id = ? AND kind = 'caption' ORDER BY item_key")
      .all(runId) as { item_key: string; mistakenness: number }[];
    expect(q.size).toBe(rows.length);
    expect(q.decided).toBe(0);
    const all: string[] = [];
    for (let offset = 0; offset < q.total; offset += 500)
      all.push(...(await queue({ offset, limit: 500 })).items.map((i) => i.key));
    expect(new Set(all).size).toBe(rows.length);
    // recomputed from the stored mistakenness and the run's cached embeddings with the pure functions
    const err = Float32Array.from(rows, (r) => r.mistakenness);
    const scores = combineScores(err, marginUncertainty(err), q.weights);
    expect(q.diversityApplied).toBe(true);
    const emb = await reviewEmbeddings(
      backend.db,
      runId,
      path.join(backend.home.cache, 'embeddings'),
      rows.map((r) => ({ kind: 'caption' as const, id: r.item_key })),
    );
    const expected = orderQueue(scores, { embeddings: emb!.embeddings, dim: emb!.dim, diversity: 1 });
    expect(all).toEqual(expected.map((i) => rows[i].item_key));
    // spacing moved something: score order alone differs
    expect(all).not.toEqual(orderQueue(scores).map((i) => rows[i].item_key));
    expect(q.items[0].text).toBeTruthy();
    expect(['train', 'val', 'test']).toContain(q.items[0].split);
  });

  it('weights change the order: label error alone is the mistakenness order', async () => {
    const q = await queue({ weights: { labelError: 1, uncertainty: 0, diversity: 0 }, limit: 20 });
    const m = q.items.map((i) => i.signals.labelError);
    expect(m).toEqual([...m].sort((a, b) => b - a));
    const u = await queue({ weights: { labelError: 0, uncertainty: 1, diversity: 0 }, limit: 20 });
    const un = u.items.map((i) => i.signals.uncertainty);
    expect(un).toEqual([...un].sort((a, b) => b - a));
    expect(u.items.map((i) => i.key)).not.toEqual(q.items.map((i) => i.key));
  });

  it('a decision from the Review view drops its item; its undo brings it back; other views do not count', async () => {
    const before = await queue({ limit: 3 });
    const [first, second] = before.items;
    const edits = decisionEdits({ datasetId, kind: 'caption', id: first.key }, 'keep');
    await backend.call('editLabels', { edits, view: REVIEW_VIEW, evalRunId: runId, author: 'rev' });
    // the same decision made elsewhere (the Labels view) does not take an item out of the queue
    await backend.call('editLabels', {
      edits: decisionEdits({ datasetId, kind: 'caption', id: second.key }, 'ambiguous'),
      view: 'labels',
      author: 'rev',
    });
    const after = await queue({ limit: 3 });
    expect(after.decided).toBe(1);
    expect(after.total).toBe(before.total - 1);
    expect(after.items[0].key).toBe(second.key);
    expect(after.items[0].position).toBe(1);
    await backend.call('undoLabel', { datasetId, view: REVIEW_VIEW, author: 'rev' }); // undoes the 'labels' edit
    await backend.call('undoLabel', { datasetId, view: REVIEW_VIEW, author: 'rev' }); // and the keep
    const back = await queue({ limit: 3 });
    expect(back.decided).toBe(0);
    expect(back.items[0].key).toBe(first.key);
  });

  it('a newer evaluation of the active model re-scores the queue; an unknown split is refused', async () => {
    const newer = await evaluate();
    expect(newer).not.toBe(runId);
    const q = await queue();
    expect(q.run?.id).toBe(newer);
    expect(q.fromActiveModel).toBe(true);
    expect(q.splits).toEqual([ALL_SPLITS]);
    await expect(queue({ split: 'nope' })).rejects.toThrow(/no retrieval evaluation of split "nope"/);
  });
});
