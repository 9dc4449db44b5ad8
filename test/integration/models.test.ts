import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import type { Job } from '../../electron/api/schemas';
import { findTorchPython } from '../../scripts/lib.mjs';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
let b: Backend;
let checkpoint: string;

beforeAll(() => {
  b = createBackend({ home: tempDir(), mode: 'browser' });
  checkpoint = path.join(tempDir(), 'vlmo_tiny_random.pt');
  // a small random model saved in the official checkpoint layout (Lightning's state_dict wrapper)
  execFileSync(
    findTorchPython()!,
    [
      '-c',
      'import sys\nfrom mome.config import tiny_config\nfrom mome.model import MomeModel, randomize_\nfrom mome.checkpoint import save_official_checkpoint\nsave_official_checkpoint(randomize_(MomeModel(tiny_config()), 1).eval(), sys.argv[1])',
      checkpoint,
    ],
    { env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') } },
  );
}, 120_000);
afterAll(() => b.close());

async function importModel(p: string, vocab?: string): Promise<Job> {
  const job = (await b.call('startModelImport', { path: p, vocab })) as Job;
  return b.jobs.wait(job.id);
}
const storeEntries = () => fs.readdirSync(b.home.models);

describe('model registry', () => {
  it('converts an official-format checkpoint as a job into an immutable version, active when first', async () => {
    const done = await importModel(checkpoint, VOCAB);
    expect(done.state, done.error ?? '').toBe('succeeded');
    const [m] = (await b.call('listModels', {})) as any[];
    expect(m).toMatchObject({ name: 'vlmo_tiny_random', active: true, sourcePath: checkpoint });
    expect(m.architecture).toMatchObject({ num_layers: 4, num_heads: 4, image_size: 32 });
    expect(m.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.existsSync(path.join(m.dir, 'mome.json'))).toBe(true);
    const info = (await b.call('getAppInfo', {})) as any;
    expect(info.activeModel).toMatchObject({ name: 'vlmo_tiny_random', provider: 'cpu' });
    expect(info.activeModel.providerReason).toMatch(/CUDA not available/);
  }, 240_000);

  it('imports a model folder and switches the active model', async () => {
    const [first] = (await b.call('listModels', {})) as any[];
    const done = await importModel(first.dir);
    expect(done.state, done.error ?? '').toBe('succeeded');
    const second = done.result as any;
    expect(second.id).not.toBe(first.id);
    expect(second.active).toBe(false);
    await b.call('setActiveModel', { id: second.id });
    expect(((await b.call('getAppInfo', {})) as any).activeModel.version).toBe(second.version);
  });

  it.each([
    [
      'a truncated checkpoint',
      (dir: string) => {
        const f = path.join(dir, 'broken.pt');
        fs.writeFileSync(f, fs.readFileSync(checkpoint).subarray(0, 2000));
        return f;
      },
      /broken\.pt/,
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
      expect(storeEntries()).toEqual(before);
      expect(((await b.call('listModels', {})) as any[]).length).toBe(count);
    },
    120_000,
  );

  it('removes a model (folder deleted, no longer active)', async () => {
    const models = (await b.call('listModels', {})) as any[];
    const active = models.find((m) => m.active);
    await b.call('removeModel', { id: active.id });
    expect(fs.existsSync(active.dir)).toBe(false);
    expect(((await b.call('getAppInfo', {})) as any).activeModel).toBeNull();
  });
});
