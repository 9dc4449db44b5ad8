// The review queue's embeddings: row for row with the queue's items, the vectors the evaluation cached for them
// (the model's own encoding of the caption text or image file), zeros where none is cached, nothing at all for a
// run without cached embeddings.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { splitImages } from '../../electron/datasets/items';
import { runEvaluation } from '../../electron/eval/run-eval';
import { reviewEmbeddings, type ReviewItemKey } from '../../electron/eval/review-embeddings';
import { MomeModel } from '../../model-runtime/src/index';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const modelDir = path.join(repo, 'assets', 'models', 'mome-tiny');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
let model: MomeModel;
afterAll(async () => {
  await model?.release();
  await backend.close();
});

let datasetId: number;
let runId: number;
let captions: { sentid: number; raw: string }[];
beforeAll(async () => {
  const root = path.join(repo, 'assets', 'datasets', 'flickr30k-sample');
  ({ datasetId } = await importDataset(backend.db, { root }, quiet));
  ({ runId } = await runEvaluation(
    backend.db,
    { task: 'retrieval', modelDir, datasetId, split: 'test', device: 'cpu', cacheDir },
    quiet,
  ));
  captions = backend.db
    .prepare(
      `SELECT c.sentid, c.raw FROM captions c JOIN images i ON i.id = c.image_id
       WHERE i.dataset_id = ? AND i.split = 'test' ORDER BY c.sentid LIMIT 4`,
    )
    .all(datasetId) as { sentid: number; raw: string }[];
  model = await MomeModel.load(modelDir, { device: 'cpu' });
}, 300_000);

const close = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  expect(worst).toBeLessThan(1e-4);
};

describe('review embeddings', () => {
  it("gives each caption and image the model's own embedding, zeros to what is not cached", async () => {
    const images = splitImages(backend.db, datasetId, 'test').slice(0, 3);
    const items: ReviewItemKey[] = [
      { kind: 'caption', id: captions[0].sentid }, // a number, as the CLI writes it
      { kind: 'image', id: images[0].source_id },
      { kind: 'nlvr2', id: 'dev-1-0-0' },
      { kind: 'caption', id: String(captions[1].sentid) },
      { kind: 'caption', id: '99999999' }, // no such caption
      { kind: 'image', id: images[1].source_id },
      { kind: 'caption', id: String(captions[2].sentid) },
      { kind: 'image', id: images[2].source_id },
    ];
    const got = (await reviewEmbeddings(backend.db, runId, cacheDir, items))!;
    const E = model.config.embedDim;
    expect(got.dim).toBe(E);
    expect(got.embeddings.length).toBe(items.length * E);
    expect(got.found).toBe(6);
    const row = (r: number) => got.embeddings.subarray(r * E, (r + 1) * E);
    const texts = await model.encodeTexts([captions[0].raw, captions[1].raw, captions[2].raw]);
    close(row(0), texts.subarray(0, E));
    close(row(3), texts.subarray(E, 2 * E));
    close(row(6), texts.subarray(2 * E, 3 * E));
    const root = path.join(repo, 'assets', 'datasets', 'flickr30k-sample');
    const enc = await model.encodeImages(images.map((im) => path.join(root, im.file)));
    close(row(1), enc.embeddings.subarray(0, E));
    close(row(5), enc.embeddings.subarray(E, 2 * E));
    close(row(7), enc.embeddings.subarray(2 * E, 3 * E));
    for (const r of [2, 4]) expect(row(r).every((x) => x === 0)).toBe(true);
  });

  it('a caption fixed since the run keeps the embedding the run made of it', async () => {
    const c = captions[3];
    await backend.call('editLabels', {
      edits: [
        { datasetId, kind: 'caption', key: String(c.sentid), field: 'raw', value: 'A text no run has embedded.' },
      ],
    });
    const got = (await reviewEmbeddings(backend.db, runId, cacheDir, [{ kind: 'caption', id: c.sentid }]))!;
    close(got.embeddings, await model.encodeTexts([c.raw]));
  });

  it('nothing for an NLVR2 run, an empty cache or no items', async () => {
    const root = path.join(repo, 'assets', 'datasets', 'nlvr2-sample');
    const nlvr2 = await importDataset(backend.db, { root }, quiet);
    const run = await runEvaluation(
      backend.db,
      { task: 'nlvr2', modelDir, datasetId: nlvr2.datasetId, split: 'dev', device: 'cpu', cacheDir },
      quiet,
    );
    const some = run.mistakes.slice(0, 5);
    expect(await reviewEmbeddings(backend.db, run.runId, cacheDir, some)).toBeUndefined();
    const empty = tempDir();
    const item = [{ kind: 'caption' as const, id: captions[0].sentid }];
    expect(await reviewEmbeddings(backend.db, runId, empty, item)).toBeUndefined();
    expect(fs.readdirSync(empty)).toEqual([]); // read only: no cache folder made
    expect(await reviewEmbeddings(backend.db, runId, cacheDir, [])).toBeUndefined();
  }, 300_000);

  it('refuses an unknown run', async () => {
    await expect(reviewEmbeddings(backend.db, 987654, cacheDir, [])).rejects.toThrow(/987654/);
  });
});
