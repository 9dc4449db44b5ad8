// The desktop build as it ships, below Electron's own APIs: the main process built by Forge's Vite config
// generator, laid out as the packaged app (bundle + only its runtime node_modules in resources/app, assets/
// and python/ beside it), and its backend run under plain Node with no tsx and no sources, from a folder
// outside the checkout. Every kind of job must succeed there; each step below names the job it runs.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, EmbeddingMap, Job, ModelVersion, ReviewQueue } from '../../electron/api/schemas';
import { WORKER_ENTRIES } from '../../model-runtime/src/runtime-paths';
import { findTorchPython } from '../../scripts/lib.mjs';
import { exportRandomModels, writeRandomCheckpoint } from './helpers/models';
import { repo } from './helpers/finetune';
import { buildShippedLayout, type ShippedLayout } from './helpers/shipped';
import { tempDir } from './helpers/temp';

const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
const hasTorch = findTorchPython() !== null;

let layout: ShippedLayout;
let modelFolder = '';
let checkpoint = '';
let child: ChildProcess;
let output = '';
let base = '';
let token = '';
const work = tempDir('mome-shipped-');

async function call<T>(name: string, args: unknown = {}): Promise<T> {
  const res = await fetch(`${base}/api/${name}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(`${name} answered ${res.status}: ${body.message ?? JSON.stringify(body)}`);
  return body;
}

async function finished(job: Job, timeoutMs = 170_000): Promise<Job> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const j = await call<Job>('getJob', { id: job.id });
    if (j.state !== 'queued' && j.state !== 'running') return j;
    if (Date.now() > end) throw new Error(`job ${job.id} (${job.title}) still ${j.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts a job, waits for it, and fails naming the job and its error (and the server's output) if it did not succeed. */
async function runJob(method: string, args: unknown): Promise<Job> {
  const done = await finished(await call<Job>(method, args));
  expect(
    done.state,
    `${method} (${done.title}) ended ${done.state}: ${done.error}\n--- server output ---\n${output}`,
  ).toBe('succeeded');
  return done;
}

beforeAll(async () => {
  layout = await buildShippedLayout(work);
  // The inputs are made before the server starts: these calls block this process for seconds, and an HTTP
  // keep-alive socket left idle across such a block is reused after the server has closed it.
  if (hasTorch) {
    [modelFolder] = exportRandomModels([{ out: path.join(work, 'random-model'), seed: 5 }], { max_text_len: 16 });
    checkpoint = writeRandomCheckpoint(path.join(work, 'vlmo_random.pt'), 7);
  }
  // Plain Node, nothing inherited that could load TypeScript or point back into the checkout.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, MOME_NO_OPEN: '1' };
  if (process.env.MOME_PYTHON) env.MOME_PYTHON = process.env.MOME_PYTHON;
  child = spawn(process.execPath, [layout.serve, '--port', '0', '--home', path.join(work, 'home')], {
    cwd: work,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bundled server printed no address:\n${output}`)), 60_000);
    child.stdout!.on('data', () => {
      const m = /Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`the bundled server exited with ${code}:\n${output}`)));
  });
  base = url.origin;
  token = url.searchParams.get('token')!;
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
});

describe('the shipped layout, run under plain Node', () => {
  let datasets: Dataset[] = [];
  const byName = (name: string) => datasets.find((d) => d.name === name)!.id;
  let retrievalRun = 0;

  it('has the bundle, its worker entries, only the runtime node_modules, and assets/ and python/ outside it', () => {
    const built = fs.readdirSync(path.dirname(layout.serve));
    for (const f of ['main.cjs', 'preload.cjs', 'serve.cjs', ...Object.keys(WORKER_ENTRIES).map((w) => `${w}.cjs`)]) {
      expect(built).toContain(f);
    }
    const modules = fs.readdirSync(path.join(layout.app, 'node_modules'));
    expect(modules).toEqual(expect.arrayContaining(['better-sqlite3', 'sharp', 'onnxruntime-node']));
    for (const dev of ['tsx', 'vite', 'electron', 'react', 'zod']) expect(modules).not.toContain(dev);
    expect(fs.existsSync(path.join(layout.resources, 'python', 'mome', '__main__.py'))).toBe(true);
    expect(fs.existsSync(path.join(layout.resources, 'assets', 'models', 'mome-tiny', 'mome.json'))).toBe(true);
    // no worker was inlined as a data: URL of its TypeScript source (Vite's asset handling of new URL(…, import.meta.url)
    // gives .ts files the type video/mp2t); the report's image data: URIs are fine
    for (const f of built)
      expect(fs.readFileSync(path.join(path.dirname(layout.serve), f), 'utf8')).not.toMatch(/["'`]data:(?!image\/)/);
  });

  it('first run: imports the sample datasets from resources/assets and activates the shipped tiny model', async () => {
    const end = Date.now() + 60_000;
    let jobs: Job[] = [];
    for (;;) {
      jobs = (await call<Job[]>('listJobs', {})).filter((j) => j.kind.includes('import'));
      if (jobs.length >= 3 && jobs.every((j) => j.state !== 'queued' && j.state !== 'running')) break;
      if (Date.now() > end) throw new Error(`sample imports did not finish: ${JSON.stringify(jobs)}\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const j of jobs) expect(j.state, `${j.title}: ${j.error}`).toBe('succeeded');
    datasets = await call<Dataset[]>('listDatasets');
    expect(datasets.map((d) => d.name).sort()).toEqual(['coco-sample', 'flickr30k-sample', 'nlvr2-sample']);
    for (const d of datasets) expect(d.root.startsWith(path.join(layout.resources, 'assets'))).toBe(true);
    const models = await call<ModelVersion[]>('listModels');
    expect(models.find((m) => m.name === 'mome-tiny')?.dir).toBe(
      path.join(layout.resources, 'assets', 'models', 'mome-tiny'),
    );
  });

  it.skipIf(!hasTorch)(
    'model-folder import',
    async () => {
      await runJob('startModelImport', { path: modelFolder });
    },
    120_000,
  );

  it.skipIf(!hasTorch)(
    'official-checkpoint conversion (python/ from resources)',
    async () => {
      const done = await runJob('startModelImport', { path: checkpoint, vocab: VOCAB });
      const model = (await call<ModelVersion[]>('listModels')).find(
        (m) => m.id === (done.result as { id: number }).id,
      )!;
      expect(fs.existsSync(path.join(model.dir, 'fusion.onnx'))).toBe(true);
    },
    170_000,
  );

  it('retrieval evaluation with ITM re-rank (image pre-processing workers)', async () => {
    const done = await runJob('startEvaluation', {
      task: 'retrieval',
      datasetId: byName('coco-sample'),
      split: 'test',
      modelDir: path.join(layout.resources, 'assets', 'models', 'mome-tiny'),
      rerankK: 3,
      device: 'cpu',
    });
    retrievalRun = (done.result as { runId: number }).runId;
    expect(retrievalRun).toBeGreaterThan(0);
  }, 170_000);

  it('NLVR2 evaluation', async () => {
    await runJob('startEvaluation', {
      task: 'nlvr2',
      datasetId: byName('nlvr2-sample'),
      split: 'dev',
      modelDir: path.join(layout.resources, 'assets', 'models', 'mome-tiny'),
      device: 'cpu',
    });
  }, 170_000);

  it('the embedding map (projection worker)', async () => {
    const map = await call<EmbeddingMap>('getEmbeddingMap', { runId: retrievalRun, maxPoints: 60 });
    expect(map.points).toHaveLength(60);
    expect(map.points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))).toBe(true);
  }, 120_000);

  it('the review queue of the NLVR2 run', async () => {
    const q = await call<ReviewQueue>('getReviewQueue', { datasetId: byName('nlvr2-sample') });
    expect(q.run?.task).toBe('nlvr2');
    expect(q.items.length).toBeGreaterThan(0);
    expect(q.items[0].kind).toBe('nlvr2');
  });

  it.skipIf(!hasTorch)(
    'a 2-step fine-tune, registered as a new model version',
    async () => {
      const done = await runJob('startFineTune', { datasetId: byName('nlvr2-sample'), maxSteps: 2, batchSize: 8 });
      const ft = await call<{ modelId: number | null; afterRunId: number | null }>('getFineTune', { jobId: done.id });
      expect(ft.modelId).not.toBeNull();
      expect(ft.afterRunId).not.toBeNull();
    },
    300_000,
  );

  it('an export of the corrected dataset', async () => {
    const out = path.join(work, 'coco-export');
    await runJob('startDatasetExport', { datasetId: byName('coco-sample'), out });
    expect(fs.existsSync(path.join(out, 'dataset_coco.json'))).toBe(true);
  }, 120_000);
});
