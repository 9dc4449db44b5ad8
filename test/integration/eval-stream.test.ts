// The streamed evaluation (captions as typed arrays read in pages, embeddings read from the cache chunk by chunk,
// rows written in batches while the run is hidden) stores exactly what the whole-split path gave: every row,
// the metrics and the likely errors, recomputed here the whole-split way (splitCaptions, embedSplit,
// scoreRetrieval, the rows as they were built in memory). On the shipped COCO sample copied with a corrupt image,
// and with the user's corrections: a caption edited, one moved to an image of another split, one removed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { ALL_SPLITS, splitImages } from '../../electron/datasets/items';
import { embedSplit } from '../../electron/eval/embed';
import { captionMistakenness, imageMistakenness, rankMistakes } from '../../electron/eval/mistakes';
import { EvalRunWriter, getEvalRun, listEvalRuns, recoverEvalRuns } from '../../electron/eval/repository';
import { evaluateRetrieval, splitCaptions, topMistakes } from '../../electron/eval/retrieval-eval';
import { runEvaluation, type EvalResult } from '../../electron/eval/run-eval';
import type { ItemRow } from '../../electron/eval/types';
import { cacheKeys } from '../../electron/models/model-folder';
import { MomeModel, scoreRetrieval } from '../../model-runtime/src/index';
import { exportRandomModels } from './helpers/models';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
afterAll(() => backend.close());

let modelDir: string;
let datasetId: number;
let root: string;
beforeAll(async () => {
  [modelDir] = exportRandomModels([{ out: path.join(tempDir('mome-stream-models-'), 'model'), seed: 5 }]);
  root = tempDir('mome-stream-coco-');
  fs.cpSync(path.join(repo, 'assets', 'datasets', 'coco-sample'), root, { recursive: true });
  datasetId = (await importDataset(backend.db, { root }, quiet)).datasetId;
  const db = backend.db;
  const test = db
    .prepare(`SELECT id, source_id, file FROM images WHERE dataset_id = ? AND split = 'test' ORDER BY id`)
    .all(datasetId) as { id: number; source_id: string; file: string }[];
  fs.writeFileSync(path.join(root, test[3].file), 'not an image at all'); // unreadable: its embedding is zeros
  const sentidOf = (imageId: number, n: number) =>
    (db.prepare('SELECT sentid FROM captions WHERE image_id = ? ORDER BY id').pluck().all(imageId) as number[])[n];
  const train = db
    .prepare(`SELECT source_id FROM images WHERE dataset_id = ? AND split = 'train' LIMIT 1`)
    .pluck()
    .get(datasetId) as string;
  await backend.call('editLabels', {
    edits: [
      { datasetId, kind: 'caption', key: String(sentidOf(test[0].id, 0)), field: 'raw', value: 'a corrected text' },
      { datasetId, kind: 'caption', key: String(sentidOf(test[1].id, 0)), field: 'image', value: train },
      { datasetId, kind: 'caption', key: String(sentidOf(test[2].id, 1)), field: 'removed', value: true },
      { datasetId, kind: 'caption', key: String(sentidOf(test[4].id, 0)), field: 'image', value: test[5].source_id },
    ],
  });
}, 180_000);

/** The rows, metrics and likely errors as the whole-split evaluation computed them. */
async function wholeSplit(split: string, k: number) {
  const db = backend.db;
  const model = await MomeModel.load(modelDir, { device: 'cpu' });
  try {
    const images = splitImages(db, datasetId, split);
    const captions = splitCaptions(db, datasetId, split);
    const E = model.config.embedDim;
    const emb = await embedSplit(model, cacheKeys(modelDir), root, images, captions, cacheDir, quiet, [0, 1]);
    const index = new Map(images.map((im, i) => [im.id, i]));
    const textImage = Int32Array.from(captions, (c) => index.get(c.image_id)!);
    const scored = await scoreRetrieval({ texts: emb.texts, images: emb.images, dim: E, textImage, k });
    const dot = (t: number, i: number) => {
      let s = 0;
      for (let j = 0; j < E; j++) s += emb.texts[t * E + j] * emb.images[i * E + j];
      return s;
    };
    const own = Float32Array.from(captions, (_, t) => dot(t, textImage[t]));
    const ownBest = new Float32Array(images.length).fill(-Infinity);
    textImage.forEach((i, t) => (ownBest[i] = Math.max(ownBest[i], own[t])));
    const mist = captionMistakenness(scored.textTopIndex, scored.textTopScore, scored.k, textImage, own);
    const imgMist = imageMistakenness(scored.imageTopIndex, scored.imageTopScore, scored.k, textImage, ownBest);
    const K = scored.k;
    const top = (idx: Int32Array, sc: Float32Array, q: number, id: (j: number) => string | number | null) =>
      JSON.stringify(
        Array.from({ length: K }, (_, j) => [
          idx[q * K + j] >= 0 ? id(idx[q * K + j]) : null,
          +sc[q * K + j].toFixed(5),
        ]),
      );
    const rows: ItemRow[] = captions.map((c, t) => [
      'caption',
      String(c.sentid),
      scored.textRank[t],
      own[t],
      mist[t],
      top(scored.textTopIndex, scored.textTopScore, t, (i) => images[i].source_id),
    ]);
    images.forEach((im, i) =>
      rows.push([
        'image',
        im.source_id,
        scored.imageRank[i],
        Number.isFinite(ownBest[i]) ? ownBest[i] : null,
        imgMist[i],
        top(scored.imageTopIndex, scored.imageTopScore, i, (t) => captions[t].sentid),
      ]),
    );
    const mistakes = rankMistakes(mist)
      .slice(0, 1000)
      .map((t) => ({ kind: 'caption' as const, id: String(captions[t].sentid), score: mist[t] }));
    return { rows, metrics: scored.metrics, mistakes, captions, unreadable: emb.unreadable.size };
  } finally {
    await model.release();
  }
}

const stored = (runId: number) =>
  (
    backend.db
      .prepare(
        'SELECT kind, item_key, rank, score, mistakenness, top FROM eval_items WHERE run_id = ? ORDER BY kind, item_key',
      )
      .all(runId) as Record<string, unknown>[]
  ).map((r) => [r.kind, r.item_key, r.rank, r.score, r.mistakenness, r.top]);

const sortRows = (rows: ItemRow[]) =>
  [...rows]
    .map((r) => r.map((v, j) => (j === 3 || j === 4 ? (v === null ? null : Number(v)) : v)))
    .sort((a, b) => (a[0] === b[0] ? (String(a[1]) < String(b[1]) ? -1 : 1) : String(a[0]) < String(b[0]) ? -1 : 1));

describe('streamed retrieval evaluation', () => {
  for (const split of ['test', ALL_SPLITS]) {
    it(`stores exactly the whole-split rows, metrics and likely errors (split ${split})`, async () => {
      const got: EvalResult = await runEvaluation(
        backend.db,
        { task: 'retrieval', modelDir, datasetId, split, k: 10, device: 'cpu', cacheDir },
        quiet,
      );
      const want = await wholeSplit(split, 10);
      expect(got.counts.captions).toBe(want.captions.length);
      expect(got.counts.unreadableImages).toBe(1);
      expect(want.unreadable).toBe(1);
      expect(got.metrics).toEqual(want.metrics);
      expect(got.mistakes).toEqual(want.mistakes);
      expect(stored(got.runId)).toEqual(sortRows(want.rows));
      // the corrections are what was scored: the edited text is a query, the removed caption is not
      expect(got.cache.textHits).toBeLessThan(want.captions.length);
    }, 180_000);
  }

  it('writes the rows in batches while the run stays hidden, and a failed run leaves nothing', async () => {
    const db = backend.db;
    const model = await MomeModel.load(modelDir, { device: 'cpu' });
    const o = {
      task: 'retrieval' as const,
      modelDir,
      datasetId,
      split: 'test',
      k: 10,
      device: 'cpu' as const,
      cacheDir,
    };
    const facts = {
      task: 'retrieval' as const,
      modelName: model.config.name,
      modelDir,
      fingerprint: cacheKeys(modelDir).texts,
      datasetId,
      split: 'test',
      options: { k: 10 },
      provider: 'cpu',
    };
    // the evaluation, its rows to `onRows` in batches of 11
    const evaluate = (onRows: (rows: ItemRow[]) => void) =>
      evaluateRetrieval(db, model, cacheKeys(modelDir), root, o, quiet, onRows, 11);
    try {
      const before = listEvalRuns(db).length;
      const writer = new EvalRunWriter(db, facts);
      const batches: number[] = [];
      const out = await evaluate((rows) => {
        writer.add(rows);
        batches.push(rows.length);
        // committed, yet invisible to every read
        expect(listEvalRuns(db).length).toBe(before);
        expect(() => getEvalRun(db, writer.runId)).toThrow(/no evaluation run/);
      });
      const n = db.prepare('SELECT count(*) FROM eval_items WHERE run_id = ?').pluck().get(writer.runId) as number;
      expect(n).toBe(out.counts.captions + out.counts.images);
      expect(batches.length).toBe(Math.ceil(n / 11));
      expect(batches.slice(0, -1).every((b) => b === 11)).toBe(true);
      writer.finish(out.metrics, 1);
      expect(getEvalRun(db, writer.runId).metrics).toEqual(out.metrics);
      expect(listEvalRuns(db).length).toBe(before + 1);

      // a run that fails midway: its rows and its run are gone
      const failing = new EvalRunWriter(db, facts);
      await expect(
        evaluate((rows) => {
          failing.add(rows);
          throw new Error('disk full');
        }),
      ).rejects.toThrow('disk full');
      failing.abandon();
      expect(db.prepare('SELECT count(*) FROM eval_items WHERE run_id = ?').pluck().get(failing.runId)).toBe(0);
      expect(db.prepare('SELECT count(*) FROM eval_runs WHERE id = ?').pluck().get(failing.runId)).toBe(0);
    } finally {
      await model.release();
    }
  }, 180_000);

  it("a dead process's partial run is deleted in steps; a live one's is left alone", async () => {
    const db = backend.db;
    const facts = {
      task: 'retrieval' as const,
      modelName: 'm',
      modelDir,
      fingerprint: 'f',
      datasetId,
      split: 'test',
      options: {},
      provider: 'cpu',
    };
    const dead = new EvalRunWriter(db, facts);
    const live = new EvalRunWriter(db, facts);
    const rows = (n: number): ItemRow[] =>
      Array.from({ length: n }, (_, r) => ['caption', String(r), r % 50, 0.5, 0, null] as ItemRow);
    dead.add(rows(12_345));
    live.add(rows(10));
    db.prepare('UPDATE eval_runs SET busy_pid = ? WHERE id = ?').run(2 ** 22 + 12_345, dead.runId); // no such process
    expect(await recoverEvalRuns(db)).toBe(1);
    const count = (id: number) => db.prepare('SELECT count(*) FROM eval_items WHERE run_id = ?').pluck().get(id);
    expect(count(dead.runId)).toBe(0);
    expect(db.prepare('SELECT count(*) FROM eval_runs WHERE id = ?').pluck().get(dead.runId)).toBe(0);
    expect(count(live.runId)).toBe(10); // this process is writing it
    live.abandon();
    expect(count(live.runId)).toBe(0);
  });

  it('the first n likely errors are rankMistakes cut at n, ties in caption order', () => {
    const scores = Float32Array.from({ length: 5000 }, (_, t) => Math.round(Math.sin(t * 7.1) * 20) / 4);
    for (const n of [1, 10, 999, 1000, 4999, 5000, 6000])
      expect(topMistakes(scores, n)).toEqual(rankMistakes(scores).slice(0, n));
  });
});
