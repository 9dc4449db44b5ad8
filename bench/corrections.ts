// `npm run bench -- corrections [--seed S]`: the pre-registered proof that correcting labels makes the model
// better. Fixed before any figure was seen (issue #20):
// - data: a shift the shipped model has not mastered (synth --world shift: every scene shows the colour or shape
//   train-tiny never saw), 20% planted label noise in the training split (captions on the wrong image; NLVR2
//   labels flipped), a clean held-out split (1,000 test images / 1,000 NLVR2 dev examples; the generator plants
//   noise in every split, so the held-out split's planted errors are corrected before anything is measured);
// - seeds: 9,100 + 10·S + 1 (COCO) and + 2 (NLVR2), seeds no training of the project uses;
// - training: the app's own fine-tune job (startFineTune: export of the labels in SQLite, the PyTorch trainer,
//   registration, evaluation before and after), twice per task with the same settings (SETTINGS): on the noisy
//   labels, then on the labels corrected from noise.json through the labeling API (editLabels);
// - measure: retrieval, the mean of TR R@1 and IR R@1 on the test split; NLVR2, dev accuracy;
// - interval: 95% paired bootstrap of corrected − noisy over the held-out queries (retrieval: test images drawn
//   with their captions, so both directions resample together; NLVR2: examples), 2,000 resamples, seed S.
// Goal: both intervals' lower bounds above 0. Written to test-results/bench/corrections.json, with the Python
// interpreter and torch version that trained (MOME_PYTHON=… picks another).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackend, type Backend } from '../electron/backend/index';
import type { FineTune, Job } from '../electron/api/schemas';
import { findPython, quantile, seededRandom } from '../model-runtime/src/index';
import { captionQueryImages, itemsOfKind } from '../electron/eval/items';

const repo = path.resolve(import.meta.dirname, '..');
const MODEL = process.env.MOME_PROOF_MODEL ?? path.join(repo, 'assets', 'models', 'mome-tiny');
const RESAMPLES = 2000;
/** Both fine-tunes of a task, noisy and corrected: the same seed, steps and mode (fast: the CPU budget). */
export const SETTINGS = { mode: 'fast', epochs: 10, batchSize: 32, lr: 1e-4, seed: 0, device: 'cpu' } as const;
export const DATA = {
  coco: { size: 4000, split: 'train=3000,test=1000', heldOut: 'test' },
  nlvr2: { size: 5000, split: 'train=4000,dev=1000', heldOut: 'dev' },
} as const;
/** --quick: a smoke run of the same steps on small data (seconds of training); its figures prove nothing. */
const QUICK = {
  coco: { size: 240, split: 'train=200,test=40', heldOut: 'test' },
  nlvr2: { size: 300, split: 'train=240,dev=60', heldOut: 'dev' },
} as const;
type Kind = keyof typeof DATA;
type Spec = (typeof DATA)[Kind] | (typeof QUICK)[Kind];

/** A run's held-out outcome per query group (an image with its captions, or an NLVR2 example). */
type Outcomes = Map<string, { tr: number; ir: number; captions: number }>;

export async function benchCorrections(args: string[] = []): Promise<Record<string, unknown>> {
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : 0;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed takes a whole number ≥ 0, not ${args[seedAt + 1]}`);
  if (!fs.existsSync(path.join(MODEL, 'mome.json'))) throw new Error(`no model folder at ${MODEL}`);
  // the interpreter the app's fine-tune job picks (MOME_PYTHON, else the first that imports torch); the data is
  // generated with it too, and the output names it
  const python = findPython();
  const torch = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).trim();
  const started = performance.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-corrections-'));
  const b = createBackend({ home: path.join(work, 'home'), mode: 'browser' });
  try {
    await finished(b, (await b.call('startModelImport', { path: MODEL })) as Job, 'importing the model');
    const quick = args.includes('--quick');
    const data = quick ? QUICK : DATA;
    const out: Record<string, unknown> = { seed, quick, model: MODEL, python, torch, settings: SETTINGS, data };
    for (const kind of ['coco', 'nlvr2'] as const) {
      const spec = data[kind];
      out[kind === 'coco' ? 'retrieval' : 'nlvr2'] = await prove(b, python, kind, spec, path.join(work, kind), seed);
    }
    out.seconds = Math.round((performance.now() - started) / 1000);
    return out;
  } finally {
    await b.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function prove(b: Backend, python: string, kind: Kind, spec: Spec, dir: string, seed: number) {
  const dataSeed = 9100 + 10 * seed + (kind === 'coco' ? 1 : 2);
  log(`${kind}: generating ${spec.size} (${spec.split}, world shift, 20% noise, seed ${dataSeed})`);
  execFileSync(
    python,
    [
      '-m',
      'mome',
      'synth',
      '--kind',
      kind,
      '--size',
      String(spec.size),
      '--split',
      spec.split,
      '--noise',
      '0.2',
    ].concat(['--world', 'shift', '--seed', String(dataSeed), '--out', dir]),
    {
      cwd: path.join(repo, 'model-runtime', 'python'),
      env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python'), OMP_NUM_THREADS: '1' },
      stdio: 'ignore',
    },
  );
  const job = (await b.call('startDatasetImport', { path: dir })) as Job;
  const datasetId = ((await finished(b, job, `importing ${dir}`)).result as { datasetId: number }).datasetId;
  const edits = corrections(kind, dir, datasetId, spec.heldOut);
  const heldOut = edits.filter((e) => e.heldOut).map((e) => e.edit);
  const train = edits.filter((e) => !e.heldOut).map((e) => e.edit);
  if (heldOut.length) await b.call('editLabels', { edits: heldOut, author: 'bench: clean held-out split' });
  log(`${kind}: ${heldOut.length} planted errors corrected in the held-out split; fine-tuning on the noisy labels`);
  const noisy = await fineTune(b, datasetId);
  log(`${kind}: correcting ${train.length} planted errors of the training split; fine-tuning again`);
  await b.call('editLabels', { edits: train, author: 'noise.json' });
  const corrected = await fineTune(b, datasetId);
  if (corrected.beforeRunId !== noisy.beforeRunId) throw new Error('the two fine-tunes evaluated different bases');
  const runs = [noisy.beforeRunId!, noisy.afterRunId!, corrected.afterRunId!].map((id) =>
    outcomes(b, kind, id, datasetId),
  );
  const [base, n, c] = runs.map((r) => measure(kind, r, [...r.keys()]));
  return {
    measure: kind === 'coco' ? 'mean of TR R@1 and IR R@1, test split (%)' : 'accuracy, dev split (%)',
    base: round(base),
    noisy: round(n),
    corrected: round(c),
    corrected_minus_noisy: {
      measure: 'corrected − noisy (points)',
      value: round(c - n),
      ci95: pairedInterval(kind, runs[1], runs[2], seed),
    },
    planted: { training_split: train.length, held_out_split_corrected_first: heldOut.length },
    finetune_seconds: { noisy: seconds(noisy), corrected: seconds(corrected) },
  };
}

interface PlantedEdit {
  heldOut: boolean;
  edit: { datasetId: number; kind: 'caption' | 'nlvr2'; key: string; field: string; value: string | boolean };
}

/** noise.json's planted errors as label edits that undo them, each marked held-out or training split. */
function corrections(kind: Kind, dir: string, datasetId: number, heldOutSplit: string): PlantedEdit[] {
  const noise = JSON.parse(fs.readFileSync(path.join(dir, 'noise.json'), 'utf8')) as {
    captions: { sentid: number; true_imgid: number; assigned_imgid: number }[];
    nlvr2: { identifier: string; true_label: string }[];
  };
  if (kind === 'nlvr2')
    return noise.nlvr2.map((n) => ({
      heldOut: n.identifier.startsWith(`${heldOutSplit}-`),
      edit: { datasetId, kind: 'nlvr2', key: n.identifier, field: 'label', value: n.true_label === 'True' },
    }));
  const images = (
    JSON.parse(fs.readFileSync(path.join(dir, 'dataset_coco.json'), 'utf8')) as {
      images: { imgid: number; split: string }[];
    }
  ).images;
  const split = new Map(images.map((im) => [im.imgid, im.split]));
  return noise.captions.map((n) => ({
    heldOut: split.get(n.assigned_imgid) === heldOutSplit,
    edit: { datasetId, kind: 'caption', key: String(n.sentid), field: 'image', value: String(n.true_imgid) },
  }));
}

async function fineTune(b: Backend, datasetId: number): Promise<FineTune> {
  const job = (await b.call('startFineTune', { datasetId, ...SETTINGS })) as Job;
  await finished(b, job, `fine-tune ${job.id}`);
  return (await b.call('getFineTune', { jobId: job.id })) as FineTune;
}

async function finished(b: Backend, job: Job, what: string): Promise<Job> {
  const done = await b.jobs.wait(job.id);
  if (done.state !== 'succeeded') throw new Error(`${what} ended ${done.state}: ${done.error}`);
  return done;
}

/**
 * Per query group of a run: retrieval, each test image's TR hit (its best caption ranked first) and its captions'
 * IR hits (their image ranked first); NLVR2, each example's hit (rank 0: right).
 */
function outcomes(b: Backend, kind: Kind, runId: number, datasetId: number): Outcomes {
  const out: Outcomes = new Map();
  for (const r of itemsOfKind(b.db, runId, kind === 'nlvr2' ? 'nlvr2' : 'image'))
    out.set(r.item_key, { tr: Number(r.rank === 0), ir: 0, captions: 0 });
  if (kind === 'nlvr2') return out;
  const imageOf = captionQueryImages(b.db, runId, datasetId);
  for (const r of itemsOfKind(b.db, runId, 'caption')) {
    const image = imageOf.get(r.item_key);
    const g = image === undefined ? undefined : out.get(image);
    if (!g) throw new Error(`run ${runId}: caption ${r.item_key} of image ${image}, which the run did not rank`);
    g.ir += Number(r.rank === 0);
    g.captions += 1;
  }
  return out;
}

/** The measure over the given groups (a resample may hold a group several times). */
function measure(kind: Kind, o: Outcomes, keys: string[]): number {
  let tr = 0;
  let ir = 0;
  let captions = 0;
  for (const k of keys) {
    const g = o.get(k)!;
    tr += g.tr;
    ir += g.ir;
    captions += g.captions;
  }
  const trR1 = (100 * tr) / keys.length;
  return kind === 'nlvr2' ? trR1 : (trR1 + (100 * ir) / captions) / 2;
}

function pairedInterval(kind: Kind, a: Outcomes, c: Outcomes, seed: number): [number, number] {
  const keys = [...a.keys()];
  if (keys.length !== c.size || keys.some((k) => !c.has(k))) throw new Error('the two runs ranked different queries');
  const random = seededRandom(seed);
  const diffs = new Float64Array(RESAMPLES);
  const draw: string[] = new Array<string>(keys.length);
  for (let r = 0; r < RESAMPLES; r++) {
    for (let i = 0; i < keys.length; i++) draw[i] = keys[random() % keys.length]; // uniform 32-bit draws
    diffs[r] = measure(kind, c, draw) - measure(kind, a, draw);
  }
  diffs.sort();
  return [round(quantile(diffs, 0.025)), round(quantile(diffs, 0.975))];
}

const round = (x: number) => Math.round(x * 100) / 100;
const seconds = (ft: FineTune) =>
  Math.round((Date.parse(ft.job.finishedAt ?? '') - Date.parse(ft.job.startedAt ?? '')) / 1000);

function log(line: string) {
  process.stderr.write(`[corrections] ${line}\n`);
}
