// More handled bad inputs, each with its clear message and nothing changed (the database rows, the media roots,
// the model store, the settings): the browser-mode server (a body over 1 MB, no JSON Content-Type, /media
// without its path or with a relative one), dataset import (no such folder, a file, a chosen kind without its
// annotation file, an unknown --kind in the CLI, NLVR2 json-lines that are empty, not UTF-8 or not JSON),
// evaluation (a model without an NLVR2 head or without a fusion graph, a split without images, the embedding map
// of an NLVR2 run), search (an NLVR2 dataset, text and image together, re-rank without a fusion graph) and
// models (a path that does not exist, an interpreter folder without bin/python).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, ModelVersion } from '../../electron/api/schemas';
import { createBackend, type Backend } from '../../electron/backend/index';
import { startBridge, type Bridge } from '../../electron/bridge/server';
import { ImportError } from '../../electron/datasets/errors';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation } from '../../electron/eval/run-eval';
import { loadSearchModel } from '../../electron/search/engine';
import { cocoImages, writeCoco } from './helpers/datasets';
import { exportRandomModels } from './helpers/models';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const tiny = path.join(repo, 'assets', 'models', 'mome-tiny');
const COCO = path.join(repo, 'assets', 'datasets', 'coco-sample');
const NLVR2 = path.join(repo, 'assets', 'datasets', 'nlvr2-sample');
const quiet = () => ({
  signal: new AbortController().signal,
  progress: () => undefined,
  throwIfCancelled: () => undefined,
});

let b: Backend;
let cacheDir: string;
beforeAll(() => {
  b = createBackend({ home: tempDir(), mode: 'browser' });
  cacheDir = path.join(b.home.cache, 'embeddings');
});
afterAll(() => b.close());

/** What a refused input must leave as it was: every table's rows but the jobs, the settings, the model store. */
function state(backend = b) {
  const n = (table: string) => (backend.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return {
    rows: Object.fromEntries(
      [
        'datasets',
        'images',
        'captions',
        'nlvr2_examples',
        'label_events',
        'eval_runs',
        'eval_items',
        'models',
        'media_roots',
      ].map((t) => [t, n(t)]),
    ),
    settings: backend.db.prepare('SELECT key, value FROM settings ORDER BY key').all(),
    store: fs.existsSync(backend.home.models) ? fs.readdirSync(backend.home.models).sort() : [],
  };
}

/** Starts a job through the API and waits for it; the finished job. */
async function runJob(method: string, args: Record<string, unknown>): Promise<Job> {
  const job = (await b.call(method, args)) as Job;
  return b.jobs.wait(job.id);
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof Error)) throw new Error(`expected a failure, got ${JSON.stringify(e)}`);
  return e;
}

describe('browser-mode server', () => {
  let bridge: Bridge;
  let root: string;
  beforeAll(async () => {
    const staticDir = tempDir();
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>MoME Studio</title>');
    bridge = await startBridge({ backend: b, staticDir });
    root = tempDir('mome-root-');
    fs.copyFileSync(
      path.join(COCO, 'val2014', fs.readdirSync(path.join(COCO, 'val2014'))[0]),
      path.join(root, 'a.jpg'),
    );
    await b.call('addMediaRoot', { path: root });
  });
  afterAll(() => bridge.close());

  const post = (method: string, body: string, headers: Record<string, string>) =>
    fetch(`${bridge.baseUrl}/api/${method}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bridge.token}`, ...headers },
      body,
    });
  const media = (query: string) =>
    fetch(`${bridge.baseUrl}/media${query}`, { headers: { Authorization: `Bearer ${bridge.token}` } });

  it('a request body over 1 MB is refused with a 400 that says so, and the call is not made', async () => {
    const before = state();
    const folder = tempDir('mome-new-root-');
    const body = JSON.stringify({ path: folder, label: 'x'.repeat(1024 * 1024) });
    const res = await post('addMediaRoot', body, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error).toEqual({ code: 'invalid_arguments', message: 'The request body is larger than 1 MB.' });
    expect(state()).toEqual(before);
    // the server is still up and the same call under the limit goes through
    const ok = await post('addMediaRoot', JSON.stringify({ path: folder }), { 'Content-Type': 'application/json' });
    expect(ok.status).toBe(200);
    expect(state().rows.media_roots).toBe(before.rows.media_roots + 1);
  });

  it.each([
    ['no Content-Type at all', {}],
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['a form', { 'Content-Type': 'application/x-www-form-urlencoded' }],
  ])('a POST /api/* without Content-Type: application/json (%s) is refused', async (_name, headers) => {
    const before = state();
    const folder = tempDir('mome-new-root-');
    const res = await fetch(`${bridge.baseUrl}/api/addMediaRoot`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bridge.token}`, ...headers },
      // a Blob without a type: fetch adds no Content-Type of its own (a string body would get text/plain)
      body: new Blob([JSON.stringify({ path: folder })]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toEqual({
      code: 'invalid_arguments',
      message: 'API calls must send Content-Type: application/json.',
    });
    expect(state()).toEqual(before);
  });

  it('/media without its path parameter is a 400 naming the parameter', async () => {
    for (const query of ['', '?thumb=64', '?path=']) {
      const res = await media(query);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: unknown }).error).toEqual({
        code: 'invalid_arguments',
        message: 'media: the path parameter is missing.',
      });
    }
  });

  it('a relative media path is refused: a media path must be absolute', async () => {
    for (const rel of ['a.jpg', `${path.basename(root)}/a.jpg`, '../a.jpg', './a.jpg']) {
      const res = await media(`?path=${encodeURIComponent(rel)}&thumb=64`);
      expect(res.status, rel).toBe(400);
      const text = await res.text();
      expect(JSON.parse(text).error).toEqual({ code: 'invalid_arguments', message: 'A media path must be absolute.' });
      expect(text).not.toMatch(/at .*\.ts:\d+/);
    }
    // the absolute path of the same file is served
    expect((await media(`?path=${encodeURIComponent(path.join(root, 'a.jpg'))}`)).status).toBe(200);
  });
});

describe('dataset import', () => {
  it('a folder that does not exist, or a file: the importer and the API job say so', async () => {
    const missing = path.join(tempDir(), 'no-such-dataset');
    const file = path.join(tempDir(), 'dataset_coco.json');
    fs.writeFileSync(file, JSON.stringify({ images: cocoImages(2) }));
    const before = state();
    const cases: [string, string][] = [
      [missing, `${missing}: the folder does not exist. Pick an existing dataset folder.`],
      [file, `${file}: this is a file, not a folder. Pick the folder that holds the annotation file.`],
    ];
    for (const [dir, message] of cases) {
      const err = await failure(importDataset(b.db, { root: dir }, quiet()));
      expect(err).toBeInstanceOf(ImportError);
      expect(err.message).toBe(message);
      const job = await runJob('startDatasetImport', { path: dir });
      expect(job.state).toBe('failed');
      expect(job.error).toBe(message);
      expect(state()).toEqual(before); // the API's claim on the file was given back
    }
    expect(fs.existsSync(missing)).toBe(false);
  });

  it.each([
    ['flickr30k', 'a COCO folder', /: no dataset_flickr30k\.json in this folder \(nor in karpathy\/\)\. A flickr30k/],
    ['nlvr2', 'a COCO folder', /: no train\.json, dev\.json or test1\.json in this folder \(nor in data\/\)\./],
    ['coco', 'an NLVR2 folder', /: no dataset_coco\.json in this folder \(nor in karpathy\/\)\./],
  ] as const)('a chosen kind (%s) whose annotation file is missing in %s', async (kind, what, message) => {
    const root = tempDir();
    if (what === 'a COCO folder') await writeCoco(root, cocoImages(3), { withImages: false });
    else fs.copyFileSync(path.join(NLVR2, 'dev.json'), path.join(root, 'dev.json'));
    const before = state();
    const err = await failure(importDataset(b.db, { root, kind }, quiet()));
    expect(err).toBeInstanceOf(ImportError);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(fs.realpathSync(root))).toBe(true);
    expect(state()).toEqual(before);
  });

  it('an unknown --kind in the CLI: exit 2, the kinds there are and the usage, nothing imported', async () => {
    const root = tempDir();
    await writeCoco(root, cocoImages(3), { withImages: false });
    const home = tempDir();
    for (const args of [['--kind', 'cifar'], ['--kind', 'COCO'], ['--kind']]) {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'electron/cli/main.ts', 'import', root, '--home', home, ...args],
        {
          cwd: repo,
          encoding: 'utf8',
        },
      );
      expect(r.status, r.stderr).toBe(2);
      const got = args[1] === undefined ? 'nothing' : args[1] === 'COCO' ? 'COCO' : 'cifar';
      expect(r.stderr).toContain(`--kind must be coco, flickr30k or nlvr2 (got ${got}).`);
      expect(r.stderr).toContain('usage: mome import DIR [--kind coco|flickr30k|nlvr2]');
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
      expect(r.stdout).toBe('');
    }
    expect(fs.readdirSync(home)).toEqual([]); // no database was even opened
  }, 60_000);

  const line = (id: string) => JSON.stringify({ identifier: id, sentence: 'There are two dogs.', label: 'True' });
  it.each([
    ['a 0-byte file', () => Buffer.alloc(0), /^dev\.json, line 1: the file is empty \(0 bytes\)\. Copy the annotation/],
    [
      'a line that is not UTF-8',
      () => {
        const text = Buffer.from(`${line('dev-1-0-0')}\n${line('dev-1-1-0').replace('two', 'tw\u0000')}\n`);
        text[text.indexOf(0)] = 0xff;
        return text;
      },
      /^dev\.json, line 2: the line holds bytes that are not UTF-8\. Re-save the file as UTF-8\.$/,
    ],
    [
      'a malformed JSON line',
      () => Buffer.from(`${line('dev-1-0-0')}\n${line('dev-1-1-0')}\n{"identifier": "dev-1-2-0", "sentence": }\n`),
      /^dev\.json, line 3: malformed JSON \(.+\)\. Each line must be one JSON object\.$/,
    ],
  ])('NLVR2 json-lines: %s, named with the file and line', async (_name, content, message) => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'dev.json'), content());
    const before = state();
    const err = await failure(importDataset(b.db, { root, kind: 'nlvr2' }, quiet()));
    expect(err).toBeInstanceOf(ImportError);
    expect(err.message).toMatch(message);
    expect(state()).toEqual(before);
    // the app's import job says the same
    const job = await runJob('startDatasetImport', { path: root, kind: 'nlvr2' });
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(message);
    expect(state()).toEqual(before);
  });

  it('NLVR2 files that detection cannot take are named with why, when no kind is chosen', async () => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'dev.json'), '{"identifier": "dev-1-2-0", "sentence": }\n');
    fs.writeFileSync(path.join(root, 'test1.json'), '');
    const before = state();
    const err = await failure(importDataset(b.db, { root }, quiet()));
    expect(err.message).toMatch(
      /not read as NLVR2: dev\.json: line 1 is not JSON \(.+\); test1\.json: it holds no record/,
    );
    expect(err.message).toMatch(/choose the kind NLVR2 to see every line at fault/);
    expect(state()).toEqual(before);
  });

  it('an NLVR2 file that starts with blank lines is detected, as its reader skips them', async () => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'dev.json'), `\n\n${fs.readFileSync(path.join(NLVR2, 'dev.json'), 'utf8')}`);
    const { datasetId } = await importDataset(b.db, { root }, quiet());
    expect(b.db.prepare('SELECT kind FROM datasets WHERE id = ?').get(datasetId)).toEqual({ kind: 'nlvr2' });
  });
});

describe('evaluation and search', () => {
  let coco: number;
  let nlvr2: number;
  /** A random model exported with the ITC head only: no fusion graph, no NLVR2 head. */
  let dualOnly: string;
  beforeAll(async () => {
    coco = (await importDataset(b.db, { root: COCO }, quiet())).datasetId;
    nlvr2 = (await importDataset(b.db, { root: NLVR2 }, quiet())).datasetId;
    [dualOnly] = exportRandomModels([{ out: path.join(tempDir(), 'itc-only'), seed: 3 }], { heads: ['itc'] });
    expect(
      fs
        .readdirSync(dualOnly)
        .filter((f) => f.endsWith('.onnx'))
        .sort(),
    ).toEqual(['image_encoder.onnx', 'text_encoder.onnx']);
  }, 120_000);

  const evaluate = (args: Record<string, unknown>) =>
    runEvaluation(
      b.db,
      { task: 'retrieval', datasetId: coco, split: 'test', modelDir: tiny, k: 10, device: 'cpu', cacheDir, ...args },
      quiet(),
    );

  it('an NLVR2 evaluation with a model without an NLVR2 head', async () => {
    const before = state();
    const err = await failure(evaluate({ task: 'nlvr2', datasetId: nlvr2, split: 'dev', modelDir: dualOnly }));
    expect(err.message).toBe(`The model ${modelName(dualOnly)} has no NLVR2 head.`);
    const job = await runJob('startEvaluation', { task: 'nlvr2', datasetId: nlvr2, split: 'dev', modelDir: dualOnly });
    expect(job.state).toBe('failed');
    expect(job.error).toBe(err.message);
    expect(state()).toEqual(before);
  });

  it('a retrieval evaluation of a split without images', async () => {
    const before = state();
    for (const [datasetId, split] of [
      [coco, 'nope'],
      [nlvr2, 'dev'], // an NLVR2 dataset has examples, not images
    ] as const) {
      const err = await failure(evaluate({ datasetId, split }));
      expect(err.message).toBe(`Dataset ${datasetId} has no images in split "${split}".`);
    }
    const job = await runJob('startEvaluation', { task: 'retrieval', datasetId: coco, split: 'nope', modelDir: tiny });
    expect(job.error).toBe(`Dataset ${coco} has no images in split "nope".`);
    expect(state()).toEqual(before);
  });

  it('ITM re-ranking with a model without a fusion graph', async () => {
    const noFusion = path.join(tempDir(), 'no-fusion');
    fs.cpSync(tiny, noFusion, { recursive: true });
    fs.rmSync(path.join(noFusion, 'fusion.onnx'));
    const before = state();
    for (const dir of [noFusion, dualOnly]) {
      const err = await failure(evaluate({ modelDir: dir, rerankK: 5 }));
      expect(err.message).toBe(`The model ${modelName(dir)} has no fusion graph to re-rank with ITM.`);
    }
    const job = await runJob('startEvaluation', {
      task: 'retrieval',
      datasetId: coco,
      split: 'test',
      modelDir: noFusion,
      rerankK: 5,
    });
    expect(job.state).toBe('failed');
    expect(job.error).toBe('The model mome-tiny has no fusion graph to re-rank with ITM.');
    expect(state()).toEqual(before);
    // without re-ranking the same model evaluates
    expect((await evaluate({ modelDir: noFusion })).counts.images).toBe(20);
  }, 60_000);

  it('the embedding map asked for an NLVR2 run', async () => {
    const run = await evaluate({ task: 'nlvr2', datasetId: nlvr2, split: 'dev' });
    const before = state();
    const err = await failure(b.call('getEmbeddingMap', { runId: run.runId, maxPoints: 60 }));
    expect(err.message).toBe(`Run ${run.runId} is an NLVR2 run; the embedding map needs a retrieval run.`);
    expect((err as Error & { code?: string }).code).toBe('invalid_arguments');
    expect(state()).toEqual(before);
  }, 60_000);

  it('searching an NLVR2 dataset', async () => {
    const before = state();
    const jobs = b.jobs.list(1000).length;
    for (const args of [{ text: 'two dogs' }, { text: 'two dogs', split: '*' }]) {
      const err = await failure(b.call('searchImages', { datasetId: nlvr2, split: 'dev', ...args }));
      expect(err.message).toMatch(
        new RegExp(
          `^Dataset ${nlvr2} \\(nlvr2-sample\\) is an NLVR2 dataset: search ranks the images of a COCO or Flickr30K dataset\\.$`,
        ),
      );
    }
    expect(b.jobs.list(1000).length).toBe(jobs); // no encoding job was started
    expect(state()).toEqual(before);
  });

  it('a search with text and image together', async () => {
    const image = b.db.prepare('SELECT id FROM images WHERE dataset_id = ? LIMIT 1').get(coco) as { id: number };
    const before = state();
    const jobs = b.jobs.list(1000).length;
    const err = await failure(
      b.call('searchImages', { datasetId: coco, split: 'test', text: 'a red circle', imageId: image.id }),
    );
    expect(err.message).toBe('Search with a text or with an image, not both.');
    expect(b.jobs.list(1000).length).toBe(jobs);
    expect(state()).toEqual(before);
    // whitespace alone is no text: that is an image query
    const r = (await b.call('searchImages', { datasetId: coco, split: 'test', text: '  ', imageId: image.id })) as {
      state: string;
    };
    expect(['ready', 'encoding']).toContain(r.state);
  });

  it('a search re-ranked with a model without a fusion graph', async () => {
    const done = await runJob('startModelImport', { path: dualOnly });
    expect(done.state, done.error ?? '').toBe('succeeded');
    const model = done.result as ModelVersion;
    const search = (rerankK: number) =>
      b.call('searchImages', { datasetId: coco, split: 'test', modelId: model.id, text: 'a red circle', rerankK });
    // refused at once, before the split is encoded for this model (no job starts)
    const before = state();
    const jobsBefore = ((await b.call('listJobs', {})) as Job[]).length;
    const err = await failure(search(5));
    expect(((await b.call('listJobs', {})) as Job[]).length).toBe(jobsBefore);
    expect(err.message).toBe(
      `The model ${modelName(dualOnly)} has no fusion graph (fusion.onnx) to re-rank with ITM; search without re-rank.`,
    );
    expect(state()).toEqual(before);
    const plain = (await search(0)) as { state: string; job?: Job | null };
    if (plain.state === 'encoding') expect((await b.jobs.wait(plain.job!.id)).state).toBe('succeeded');
    expect(((await search(0)) as { state: string }).state).toBe('ready');
    // the engine's loader (the CLI's) says the same
    await expect(loadSearchModel(dualOnly, 'cpu', 5)).rejects.toThrow(/has no fusion graph \(fusion\.onnx\)/);
  }, 60_000);
});

describe('models', () => {
  it('importing a path that does not exist', async () => {
    const missing = path.join(tempDir(), 'nowhere', 'vlmo_base_patch16_224.pt');
    const before = state();
    const job = await runJob('startModelImport', { path: missing });
    expect(job.state).toBe('failed');
    expect(job.error).toBe(`${missing} does not exist.`);
    expect(state()).toEqual(before); // nothing in the store, not even a temp folder
  });

  it('an interpreter path that is a folder without bin/python', async () => {
    const folder = tempDir('mome-not-a-venv-');
    fs.mkdirSync(path.join(folder, 'lib'));
    const before = state();
    const err = await failure(b.call('setPythonInterpreter', { path: folder }));
    expect(err.message).toBe(`\`${folder}\` is a folder without bin/python: choose the interpreter itself.`);
    expect((err as Error & { code?: string }).code).toBe('invalid_arguments');
    expect(state()).toEqual(before); // nothing saved
  });
});

function modelName(dir: string): string {
  return (
    (JSON.parse(fs.readFileSync(path.join(dir, 'mome.json'), 'utf8')) as { name?: string }).name ?? path.basename(dir)
  );
}
