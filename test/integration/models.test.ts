import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import type { Job } from '../../electron/api/schemas';
import { importDataset } from '../../electron/datasets/importer';
import { findTorchPython } from '../../scripts/lib.mjs';
import { writeRandomCheckpoint } from './helpers/models';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
let b: Backend;
let checkpoint: string;

beforeAll(() => {
  b = createBackend({ home: tempDir(), mode: 'browser' });
  checkpoint = path.join(tempDir(), 'vlmo_tiny_random.pt');
  writeRandomCheckpoint(checkpoint, 1);
}, 120_000);
afterAll(() => b.close());

async function importModel(p: string, vocab?: string): Promise<Job> {
  const job = (await b.call('startModelImport', { path: p, vocab })) as Job;
  return b.jobs.wait(job.id);
}
const storeEntries = () => fs.readdirSync(b.home.models);

describe('model registry', () => {
  it('cancelling a conversion stops it and leaves nothing behind', async () => {
    const before = storeEntries();
    const count = ((await b.call('listModels', {})) as any[]).length;
    const job = (await b.call('startModelImport', { path: checkpoint, vocab: VOCAB })) as Job;
    setTimeout(() => b.jobs.cancel(job.id), 1500); // while Python loads the checkpoint
    const done = await b.jobs.wait(job.id);
    expect(done.state).toBe('cancelled');
    expect(storeEntries()).toEqual(before);
    expect(((await b.call('listModels', {})) as any[]).length).toBe(count);
  }, 120_000);

  it('converts an official-format checkpoint as a job into an immutable version, active when first', async () => {
    const done = await importModel(checkpoint, VOCAB);
    expect(done.state, done.error ?? '').toBe('succeeded');
    const [m] = (await b.call('listModels', {})) as any[];
    expect(m).toMatchObject({ name: 'vlmo_tiny_random', active: true, sourcePath: checkpoint });
    expect(m.architecture).toMatchObject({ num_layers: 4, num_heads: 4, image_size: 32 });
    expect(m.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.existsSync(path.join(m.dir, 'mome.json'))).toBe(true);
    // the converter's output stays with the version it made
    expect(fs.readFileSync(path.join(m.dir, 'conversion.log'), 'utf8')).toMatch(
      /^\$ python -m mome convert --checkpoint/,
    );
    const info = (await b.call('getAppInfo', {})) as any;
    expect(info.activeModel).toMatchObject({ name: 'vlmo_tiny_random', provider: 'cpu' });
    expect(info.activeModel.providerReason).toMatch(/CUDA not available/);
  }, 240_000);

  it('imports a model folder and switches the active model; the same model twice is refused', async () => {
    const [first] = (await b.call('listModels', {})) as any[];
    const twice = await importModel(first.dir);
    expect(twice.state).toBe('failed');
    expect(twice.error).toMatch(new RegExp(`already registered as model ${first.id} \\(vlmo_tiny_random`));
    const again = await importModel(checkpoint, VOCAB); // refused by its hash, before any conversion
    expect(again.error).toMatch(/vlmo_tiny_random\.pt is already registered as model/);
    // another model folder: the same weights described differently are another version
    const other = path.join(tempDir(), 'vlmo_tiny_other');
    fs.cpSync(first.dir, other, { recursive: true });
    const json = JSON.parse(fs.readFileSync(path.join(other, 'mome.json'), 'utf8'));
    fs.writeFileSync(path.join(other, 'mome.json'), JSON.stringify({ ...json, name: 'vlmo_tiny_other' }));
    const done = await importModel(other);
    expect(done.state, done.error ?? '').toBe('succeeded');
    const second = done.result as any;
    expect(second.id).not.toBe(first.id);
    expect(second.active).toBe(false);
    await b.call('setActiveModel', { id: second.id });
    expect(((await b.call('getAppInfo', {})) as any).activeModel.version).toBe(second.version);
  });

  it('registers the model shipped in assets/ in place on first start, active; removing it keeps its files', async () => {
    const [m] = (await b.call('listModels', {})) as any[];
    const assets = tempDir('mome-assets-');
    const shipped = path.join(assets, 'models', 'mome-tiny');
    fs.cpSync(m.dir, shipped, { recursive: true });
    const saved = process.env.MOME_ASSETS;
    process.env.MOME_ASSETS = assets;
    const home = tempDir();
    try {
      const first = createBackend({ home, mode: 'browser', registerSamples: true });
      const [model] = (await first.call('listModels', {})) as any[];
      expect(model).toMatchObject({ name: 'mome-tiny', dir: shipped, active: true });
      expect(((await first.call('getAppInfo', {})) as any).activeModel).toMatchObject({ name: 'mome-tiny' });
      await first.call('removeModel', { id: model.id });
      expect(fs.existsSync(path.join(shipped, 'mome.json'))).toBe(true); // assets are never deleted
      await first.close();
      const again = createBackend({ home, mode: 'browser', registerSamples: true });
      expect(await again.call('listModels', {})).toEqual([]); // removed by the user: not brought back
      await again.close();
    } finally {
      if (saved === undefined) delete process.env.MOME_ASSETS;
      else process.env.MOME_ASSETS = saved;
    }
  });

  it.each([
    [
      'a truncated checkpoint',
      (dir: string) => {
        const f = path.join(dir, 'broken.pt');
        fs.writeFileSync(f, fs.readFileSync(checkpoint).subarray(0, 2000));
        return f;
      },
      /Converting broken\.pt failed: .*\(the converter's log: /,
    ],
    [
      'a file that is not a model',
      (dir: string) => {
        const f = path.join(dir, 'notes.txt');
        fs.writeFileSync(f, 'hello');
        return f;
      },
      /neither a model folder .* nor a checkpoint/,
    ],
    ['a folder that is not a model', (dir: string) => dir, /mome\.json is missing/],
  ])(
    'refuses %s with a clear message and leaves nothing behind',
    async (_name, make, message) => {
      const before = storeEntries();
      const count = ((await b.call('listModels', {})) as any[]).length;
      const done = await importModel(make(tempDir()), VOCAB);
      expect(done.state).toBe('failed');
      expect(done.error).toMatch(message);
      const log = /the converter's log: (\S+\.log)\)/.exec(done.error ?? '')?.[1];
      if (log) expect(fs.readFileSync(log, 'utf8')).toMatch(/mome convert/); // conversions say where their log is
      expect(storeEntries()).toEqual(before);
      expect(((await b.call('listModels', {})) as any[]).length).toBe(count);
    },
    120_000,
  );

  it('refuses a checkpoint whose pickle would run a command, names what it holds, and never runs it', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'payload-ran');
    // a protocol-2 pickle of posix.system('touch <marker>'): plain torch.load would run it while reading
    const command = Buffer.from(`touch ${marker}`);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(command.length);
    const evil = path.join(dir, 'evil.pt');
    fs.writeFileSync(
      evil,
      Buffer.concat([
        Buffer.from('\x80\x02cposix\nsystem\nX', 'latin1'),
        length,
        command,
        Buffer.from('\x85R.', 'latin1'),
      ]),
    );
    const before = storeEntries();
    const done = await importModel(evil, VOCAB);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(
      /Converting evil\.pt failed: \S*evil\.pt cannot be loaded as data: it contains a pickled `posix\.system`.*torch\.save\(model\.state_dict\(\)/,
    );
    expect(fs.existsSync(marker)).toBe(false);
    expect(storeEntries()).toEqual(before);
  }, 120_000);

  it('names the vocabulary file it could not find, leaves nothing behind, and remembers it once given', async () => {
    const fresh = createBackend({ home: tempDir(), mode: 'browser' });
    const lonely = path.join(tempDir(), 'vlmo_no_vocab.pt'); // no vocab.txt beside it
    fs.copyFileSync(checkpoint, lonely);
    const saved = { HOME: process.env.HOME, HF_HOME: process.env.HF_HOME };
    process.env.HOME = tempDir(); // an empty Hugging Face cache
    delete process.env.HF_HOME;
    try {
      const run = async (vocab?: string) =>
        fresh.jobs.wait(((await fresh.call('startModelImport', { path: lonely, vocab })) as Job).id);
      const failed = await run();
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatch(/no vocabulary found.*vocab\.txt/);
      expect(fs.readdirSync(fresh.home.models)).toEqual([]);
      expect(await fresh.call('listModels', {})).toEqual([]);
      const ok = await run(VOCAB);
      expect(ok.state).toBe('succeeded');
      await fresh.call('removeModel', { id: (ok.result as any).id }); // so that the same checkpoint may come again
      const again = await run(); // the file named once is used again
      expect(again.state, again.error ?? '').toBe('succeeded');
    } finally {
      Object.assign(process.env, saved);
      if (saved.HF_HOME === undefined) delete process.env.HF_HOME;
      await fresh.close();
    }
  }, 240_000);

  it('the card shows where the model runs and why, and CPU can be chosen explicitly', async () => {
    const [m] = (await b.call('listModels', {})) as any[];
    const card = (await b.call('getModelCard', { id: m.id })) as any;
    expect(card.model).toMatchObject({ id: m.id, removedAt: null });
    expect(card.provider).toMatchObject({ device: 'auto', provider: 'cpu' });
    expect(card.provider.cuda.available).toBe(false);
    expect(card.provider.reason).toMatch(/CUDA not available: (onnxruntime-node's CUDA provider|no NVIDIA driver)/);
    const chosen = (await b.call('setModelDevice', { device: 'cpu' })) as any;
    expect(chosen).toMatchObject({ device: 'cpu', provider: 'cpu' });
    expect(chosen.reason).toMatch(/CPU chosen explicitly \(CUDA not available/);
    expect(((await b.call('getAppInfo', {})) as any).activeModel.providerReason).toMatch(/CPU chosen explicitly/);
    await b.call('setModelDevice', { device: 'auto' });
  });

  it('the card lists its evaluation runs and every version with its metrics; removal keeps the runs', async () => {
    const data = tempDir('mome-synth-');
    execFileSync(findTorchPython()!, ['-m', 'mome', 'synth', '--kind', 'coco', '--size', '12', '--out', data], {
      env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
      stdio: 'ignore',
    });
    const quiet = {
      signal: new AbortController().signal,
      progress: () => undefined,
      throwIfCancelled: () => undefined,
    };
    const { datasetId, splits } = await importDataset(b.db, { root: data }, quiet);
    const split = Object.keys(splits)[0];
    const active = ((await b.call('listModels', {})) as any[]).find((m) => m.active);
    await b.call('setModelDevice', { device: 'cpu' });
    const job = (await b.call('startEvaluation', { task: 'retrieval', datasetId, split })) as Job;
    expect((job.params as any).device).toBe('cpu'); // the explicit choice applies to runs started with 'auto'
    const done = await b.jobs.wait(job.id);
    await b.call('setModelDevice', { device: 'auto' });
    expect(done.state, done.error ?? '').toBe('succeeded');
    const card = (await b.call('getModelCard', { id: active.id })) as any;
    expect(card.runs).toHaveLength(1);
    expect(card.runs[0]).toMatchObject({ task: 'retrieval', datasetId, split, provider: 'cpu' });
    expect(Object.keys(card.runs[0].metrics)).toEqual(expect.arrayContaining(['tr_r1', 'ir_r1']));
    const mine = card.versions.find((v: any) => v.modelId === active.id);
    expect(mine.results).toEqual([
      { runId: card.runs[0].id, task: 'retrieval', datasetId, split, metrics: card.runs[0].metrics },
    ]);
    expect(card.versions.length).toBeGreaterThanOrEqual(2);

    await b.call('removeModel', { id: active.id });
    expect(fs.existsSync(active.dir)).toBe(false);
    expect(((await b.call('getAppInfo', {})) as any).activeModel).toBeNull();
    expect(((await b.call('listModels', {})) as any[]).some((m) => m.id === active.id)).toBe(false);
    const removed = ((await b.call('listModels', { includeRemoved: true })) as any[]).find((m) => m.id === active.id);
    expect(removed.removedAt).not.toBeNull();
    const after = (await b.call('getModelCard', { id: active.id })) as any;
    expect(after.model.removedAt).not.toBeNull();
    expect(after.runs.map((r: any) => r.id)).toEqual([card.runs[0].id]);
    expect(after.versions.find((v: any) => v.modelId === active.id).removed).toBe(true);
  }, 240_000);

  it('the mome CLI imports a model folder and lists models as JSON, and fails clearly', async () => {
    const [m] = (await b.call('listModels', {})) as any[];
    const home = tempDir();
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', 'models', ...args, '--home', home], {
        cwd: repo,
        encoding: 'utf8',
      });
    const imported = cli('import', m.dir);
    expect(imported.status, imported.stderr).toBe(0);
    const model = JSON.parse(imported.stdout);
    expect(model).toMatchObject({ active: true, architecture: { num_layers: 4, image_size: 32 } });
    const listed = cli('list');
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).map((x: any) => x.id)).toEqual([model.id]);
    const notes = path.join(tempDir(), 'notes.txt');
    fs.writeFileSync(notes, 'hello');
    const bad = cli('import', notes);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).error.message).toMatch(/notes\.txt is neither a model folder/);
    expect(fs.readdirSync(path.join(home, 'models'))).toEqual([path.basename(model.dir)]);
  }, 120_000);
});
