// Text → image search with the shipped tiny model on the COCO sample: a caption searched gets exactly the
// evaluation's ranking and scores (dual encoder and ITM re-rank), a split the cache lacks is encoded once as a
// job, marks made from results go through the label history with undo, and bad input gets a clear message.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalItem, LabelEvent, SearchResult } from '../../electron/api/schemas';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation, type EvalResult } from '../../electron/eval/run-eval';
import { cacheKeys } from '../../electron/models/model-folder';
import { indexFromCache, loadSearchModel, searchImageCaptions } from '../../electron/search/engine';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const tiny = path.join(repo, 'assets', 'models', 'mome-tiny');
/** The model's text length (a longer query is cut there). */
const maxTextLen = (JSON.parse(fs.readFileSync(path.join(tiny, 'mome.json'), 'utf8')) as { max_text_len: number })
  .max_text_len;
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
afterAll(() => backend.close());

let coco: number;
beforeAll(async () => {
  coco = (await importDataset(backend.db, { root: path.join(repo, 'assets', 'datasets', 'coco-sample') }, quiet))
    .datasetId;
}, 120_000);

const search = (args: Record<string, unknown>) =>
  backend.call('searchImages', { datasetId: coco, split: 'test', ...args }) as Promise<SearchResult>;

const evaluate = (rerankK: number) =>
  runEvaluation(
    backend.db,
    { task: 'retrieval', modelDir: tiny, datasetId: coco, split: 'test', k: 10, rerankK, device: 'cpu', cacheDir },
    quiet,
  );

async function captionItems(runId: number): Promise<(EvalItem & { text: string })[]> {
  const page = (await backend.call('getEvalItems', { runId, kind: 'caption', limit: 1000 })) as { items: EvalItem[] };
  const raw = backend.db.prepare('SELECT raw FROM captions WHERE dataset_id = ? AND sentid = ?');
  return page.items.map((it) => ({ ...it, text: (raw.get(coco, Number(it.key)) as { raw: string }).raw }));
}

describe('text → image search', () => {
  let run: EvalResult;
  beforeAll(async () => {
    run = await evaluate(0);
  }, 120_000);

  it("ranks every caption's images exactly as the evaluation did, with the same scores", async () => {
    const items = await captionItems(run.runId);
    expect(items.length).toBe(run.counts.captions);
    for (const it of items) {
      const r = await search({ text: it.text, k: 10 });
      expect(r.state).toBe('ready');
      expect(r.caption?.sentid).toBe(Number(it.key));
      expect(r.results.map((h) => [h.imgid, +h.score.toFixed(5)])).toEqual(it.top);
      // its own image is marked where it appears, at the evaluation's rank
      const truth = r.results.findIndex((h) => h.isTruth);
      expect(truth).toBe(it.rank! < 10 ? it.rank : -1);
    }
  });

  it('re-ranks the top K with ITM exactly as the evaluation re-ranks', async () => {
    const re = await evaluate(5);
    const items = await captionItems(re.runId);
    for (const it of items.slice(0, 25)) {
      const r = await search({ text: it.text, k: 5, rerankK: 5 });
      expect(r.results.map((h) => [h.imgid, +h.score.toFixed(5)])).toEqual(it.top!.slice(0, 5));
    }
  }, 120_000);

  it("image → text: a test image's captions ranked exactly as the evaluation's image-to-text ranking", async () => {
    const page = (await backend.call('getEvalItems', { runId: run.runId, kind: 'image', limit: 1000 })) as {
      items: EvalItem[];
    };
    expect(page.items.length).toBe(run.counts.images);
    const keys = cacheKeys(tiny);
    const model = await loadSearchModel(tiny, 'cpu');
    try {
      const { index } = await indexFromCache(backend.db, coco, 'test', keys, model.config.embedDim, cacheDir);
      for (const it of page.items) {
        const file = (
          backend.db.prepare('SELECT file FROM images WHERE dataset_id = ? AND source_id = ?').get(coco, it.key) as {
            file: string;
          }
        ).file;
        const r = await searchImageCaptions(
          backend.db,
          model,
          index!,
          cacheDir,
          { file: path.join(index!.root, file), k: 10 },
          quiet,
        );
        expect(r.queryImage.imgid).toBe(it.key);
        expect(r.results.map((h) => [String(h.sentid), +h.score.toFixed(5)])).toEqual(
          (it.top as [string | number, number][]).map(([k, v]) => [String(k), v]),
        );
        expect(r.results.findIndex((h) => h.isTruth)).toBe(it.rank! < 10 ? it.rank : -1);
      }
    } finally {
      await model.release();
    }
  });

  it('a free-text query: file paths as in the dataset json, scores descending, no caption to mark', async () => {
    const r = await search({ text: 'a small red circle on the left', k: 8 });
    expect(r.caption).toBeNull();
    expect(r.results).toHaveLength(8);
    expect(r.results[0].file).toMatch(/^val2014\/COCO_val2014_\d+\.jpg$/);
    const scores = r.results.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(r.query).toMatchObject({ truncated: false, maxTokens: maxTextLen });
  });

  it('image → image: the images most like a dataset image, itself left out, by embedding likeness', async () => {
    const im = backend.db
      .prepare(`SELECT id, source_id FROM images WHERE dataset_id = ? AND split = 'test' ORDER BY id LIMIT 1`)
      .get(coco) as { id: number; source_id: string };
    const r = await search({ imageId: im.id, k: 5 });
    expect(r.queryImage).toMatchObject({ imgid: im.source_id });
    expect(r.results).toHaveLength(5);
    expect(r.results.some((h) => h.imgid === im.source_id)).toBe(false);
    const scores = r.results.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    await expect(search({ imageId: im.id, rerankK: 4 })).rejects.toThrow(/image query has no text/);
    await expect(search({ imageId: 999_999 })).rejects.toThrow(/no image with id 999999/);
  });

  it('encodes a split the cache lacks once, as a job, then answers from memory', async () => {
    const first = await search({ split: 'val', text: 'a blue square' });
    expect(first.state).toBe('encoding');
    expect(first.job?.kind).toBe('search-index');
    const again = await search({ split: 'val', text: 'a blue square' }); // the same job, not a second
    expect(again.job?.id).toBe(first.job!.id);
    expect((await backend.jobs.wait(first.job!.id)).state).toBe('succeeded');
    const ready = await search({ split: 'val', text: 'a blue square' });
    expect(ready.state).toBe('ready');
    expect(ready.results.length).toBeGreaterThan(0);
    // the embeddings went into the evaluation's cache: its run of val encodes no image
    const ev = await runEvaluation(
      backend.db,
      { task: 'retrieval', modelDir: tiny, datasetId: coco, split: 'val', k: 10, device: 'cpu', cacheDir },
      quiet,
    );
    expect(ev.cache.imageHits).toBe(ev.counts.images);
  });

  it('marks from results are pair labels with history and undo', async () => {
    const [it] = await captionItems(run.runId);
    const r = await search({ text: it.text, k: 5 });
    const other = r.results.find((h) => !h.isTruth)!;
    const key = `${r.caption!.sentid}|${other.imgid}`;
    const target = { datasetId: coco, kind: 'pair', key };
    await backend.call('editLabels', {
      edits: [{ ...target, field: 'relation', value: 'also_match', expected: null }],
      view: 'search',
    });
    const state = async () =>
      ((await backend.call('getLabelState', { targets: [target] })) as { field: string; value: unknown }[]).find(
        (s) => s.field === 'relation',
      )?.value ?? null;
    expect(await state()).toBe('also_match');
    const undone = (await backend.call('undoLabel', { datasetId: coco, view: 'search' })) as LabelEvent;
    expect(undone.key).toBe(key);
    expect(await state()).toBeNull();
    // a free-text query saved as a new caption of a result
    await backend.call('editLabels', {
      edits: [
        { datasetId: coco, kind: 'caption', key: 'new:search1', field: 'raw', value: 'a blue square, searched' },
        { datasetId: coco, kind: 'caption', key: 'new:search1', field: 'image', value: other.imgid },
      ],
      view: 'search',
    });
    const raw = (await backend.call('getLabelState', {
      targets: [{ datasetId: coco, kind: 'caption', key: 'new:search1' }],
    })) as { field: string; value: unknown }[];
    expect(raw.find((s) => s.field === 'image')?.value).toBe(other.imgid);
  });
});

describe('bad input', () => {
  const message = async (args: Record<string, unknown>) => {
    try {
      await search(args);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('no error');
  };

  it('an empty query, an unknown split, a too-long query', async () => {
    expect(await message({ text: '   ' })).toMatch(/query is empty/);
    expect(await message({ text: 'a cat', split: 'nope' })).toMatch(/no split "nope"; its splits: .*test/);
    expect(await message({ text: 'x'.repeat(2001) })).toMatch(/longer than 2,000 characters/);
    const long = await search({ text: Array(60).fill('red circle').join(' and '), k: 3 });
    expect(long.query).toMatchObject({ truncated: true, maxTokens: maxTextLen });
    expect(long.query!.tokens).toBeGreaterThan(maxTextLen);
  });

  it('a model without a text graph, through the CLI, and the CLI output', () => {
    const broken = path.join(tempDir('mome-search-model-'), 'no-text');
    fs.cpSync(tiny, broken, { recursive: true });
    fs.rmSync(path.join(broken, 'text_encoder.onnx'));
    const dataset = path.join(repo, 'assets', 'datasets', 'coco-sample');
    const cli = (args: string[]) =>
      spawnSync('node', ['--import', 'tsx', 'electron/cli/main.ts', 'search', ...args], {
        cwd: repo,
        encoding: 'utf8',
      });
    const bad = cli(['--model', broken, '--dataset', dataset, '--text', 'a cat', '--home', backend.home.root]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/cannot search: .*missing its graph text_encoder\.onnx/);
    const queries = path.join(tempDir(), 'q.txt');
    fs.writeFileSync(queries, 'a red circle\n\na blue square\n');
    const json = path.join(tempDir(), 'out.jsonl');
    const out = execFileSync(
      'node',
      [
        '--import',
        'tsx',
        'electron/cli/main.ts',
        'search',
        '--model',
        tiny,
        '--dataset',
        dataset,
        '--queries',
        queries,
        '--k',
        '3',
        '--json',
        json,
        '--home',
        backend.home.root,
      ],
      { cwd: repo, encoding: 'utf8' },
    );
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.query)).toEqual(['a red circle', 'a blue square']);
    expect(lines[0].results).toHaveLength(3);
    expect(lines[0].results[0]).toEqual({
      file: expect.stringMatching(/^val2014\//),
      imgid: expect.any(Number),
      score: expect.any(Number),
    });
    expect(fs.readFileSync(json, 'utf8')).toBe(out);
    const unreadable = cli(['--model', tiny, '--dataset', dataset, '--image', queries, '--home', backend.home.root]);
    expect(unreadable.status).toBe(1);
    expect(unreadable.stderr).toMatch(/query image .*q\.txt cannot be read/);
    // image → text: captions with their sentid
    const image = path.join(dataset, lines[0].results[0].file as string);
    const captions = cli(
      ['--model', tiny, '--dataset', dataset, '--image', image, '--target', 'captions', '--k', '2'].concat([
        '--home',
        backend.home.root,
      ]),
    );
    expect(captions.status, captions.stderr).toBe(0);
    const hits = (JSON.parse(captions.stdout.trim()) as { results: unknown[] }).results;
    expect(hits).toHaveLength(2);
    expect(hits[0]).toEqual({
      sentid: expect.any(Number),
      imgid: expect.any(Number),
      caption: expect.any(String),
      score: expect.any(Number),
    });
    const misplaced = cli([
      '--model',
      tiny,
      '--dataset',
      dataset,
      '--text',
      'a cat',
      '--target',
      'captions',
      '--home',
      backend.home.root,
    ]);
    expect(misplaced.status).toBe(1);
    expect(misplaced.stderr).toMatch(/--target goes with --image/);
  }, 60_000);

  it("the CLI's --queries output is the evaluation's top-10 ranking with its scores, query by query", async () => {
    const items = (await captionItems((await evaluate(0)).runId)).slice(0, 20);
    const queries = path.join(tempDir(), 'captions.txt');
    fs.writeFileSync(queries, items.map((it) => it.text.replace(/\s+/g, ' ').trim()).join('\n') + '\n');
    const dataset = path.join(repo, 'assets', 'datasets', 'coco-sample');
    const out = execFileSync(
      'node',
      [
        '--import',
        'tsx',
        'electron/cli/main.ts',
        'search',
        '--model',
        tiny,
        '--dataset',
        dataset,
        '--split',
        'test',
      ].concat(['--queries', queries, '--k', '10', '--home', backend.home.root]),
      { cwd: repo, encoding: 'utf8' },
    );
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query: string; results: { imgid: number; score: number }[] });
    expect(lines).toHaveLength(items.length);
    lines.forEach((line, i) =>
      expect(
        line.results.map((h) => [String(h.imgid), +h.score.toFixed(5)]),
        line.query,
      ).toEqual(items[i].top),
    );
  }, 60_000);
});
