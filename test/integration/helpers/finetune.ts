// Shared steps of the fine-tune tests: a model to fine-tune (the shipped tiny model, or a small random one
// exported by the real exporter), the sample datasets imported, noise.json applied through the labeling API.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../../electron/backend/index';
import type { FineTune, Job } from '../../../electron/api/schemas';
import { exportRandomModels } from './models';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A random tiny model folder (4 layers, width 64, 32 px images, BERT vocabulary), exported by mome.export. */
export function randomModelDir(out: string, seed = 3): string {
  return exportRandomModels([{ out, seed }], { max_text_len: 16 })[0];
}

export async function importSample(b: Backend, name: string): Promise<number> {
  const job = (await b.call('startDatasetImport', { path: path.join(repo, 'assets', 'datasets', name) })) as Job;
  const done = await b.jobs.wait(job.id);
  if (done.state !== 'succeeded') throw new Error(`importing ${name} failed: ${done.error}`);
  return (done.result as { datasetId: number }).datasetId;
}

export async function importModel(b: Backend, dir: string): Promise<number> {
  const job = (await b.call('startModelImport', { path: dir })) as Job;
  const done = await b.jobs.wait(job.id);
  if (done.state !== 'succeeded') throw new Error(`importing ${dir} failed: ${done.error}`);
  return (done.result as { id: number }).id;
}

/** Applies noise.json's NLVR2 label corrections through editLabels; returns how many. */
export async function correctNlvr2Noise(b: Backend, datasetId: number): Promise<number> {
  const noise = JSON.parse(
    fs.readFileSync(path.join(repo, 'assets', 'datasets', 'nlvr2-sample', 'noise.json'), 'utf8'),
  ) as {
    nlvr2: { identifier: string; true_label: string }[];
  };
  const edits = noise.nlvr2.map((n) => ({
    datasetId,
    kind: 'nlvr2' as const,
    key: n.identifier,
    field: 'label',
    value: n.true_label === 'True',
  }));
  await b.call('editLabels', { edits, author: 'noise.json' });
  return edits.length;
}

export async function fineTune(b: Backend, args: Record<string, unknown>): Promise<FineTune> {
  const job = (await b.call('startFineTune', args)) as Job;
  const done = await b.jobs.wait(job.id);
  if (done.state !== 'succeeded') throw new Error(`fine-tune ${job.id} ended ${done.state}: ${done.error}`);
  return (await b.call('getFineTune', { jobId: job.id })) as FineTune;
}

/** Whether a process runs; an orphan that ended but is not reaped yet (a zombie) counts as ended. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)![0] !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(pid, 0) answered
  }
}

export function trainerPid(ft: FineTune): number | null {
  const line = ft.logTail.find((l) => l.startsWith('Trainer started (pid '));
  return line ? Number(/pid (\d+)/.exec(line)![1]) : null;
}

/** Polls `get` every 200 ms until `ok` holds; fails with the last value after `ms`. */
export async function waitFor<T>(get: () => Promise<T> | T, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting; last value ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
