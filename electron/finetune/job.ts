// A fine-tune as a job: export the dataset's corrected data (never the uncorrected original) and the judged
// pairs into the job's folder, evaluate the base model on the held-out split, run the PyTorch trainer as a
// child process (progress, loss/lr curve and log tail stream into the job), register the result as a new
// immutable model version (parent, data snapshot, config), and evaluate it on the same split: before/after.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { FineTuneSettings, Job, ModelVersion } from '../api/schemas';
import { exportDataset } from '../datasets/export';
import { JobCancelled, type JobContext, type JobService } from '../jobs/service';
import type { LabelHistory } from '../labels/history';
import type { ModelRegistry } from '../models/registry';
import type { Db } from '../store/db';
import type { HomeLayout } from '../store/home';
import { datasetInfo, type DatasetInfo } from '../datasets/repository';
import { pairsInForce } from '../labels/adjudication';
import { createSnapshot, linkSnapshotModel, snapshotMarks, snapshotOfFineTune } from '../labels/snapshots';
import { HELD_OUT, defaults, taskFor } from './preview';
import type { FineTuneStore } from './repository';
import { runTrainer, type TrainerMessage } from './trainer';
import { LogTail } from './log-tail';
import { findPython } from '../../model-runtime/src/index';
import { findReusableRun, getEvalRun } from '../eval/repository';
import { modelFingerprint } from '../models/model-folder';
import { compareIntervals, DEFAULT_BOOTSTRAP } from '../eval/stats';

export interface FineTuneDeps {
  db: Db;
  labels: LabelHistory;
  models: ModelRegistry;
  store: FineTuneStore;
  home: HomeLayout;
  /** Tells windows that models changed (a new version is registered). */
  modelsChanged: (id: number) => void;
  /** The embedded default model's folder, when it is installed: the base of last resort. */
  defaultModelDir: () => string | null;
}

export interface BaseModel {
  id: number | null;
  name: string;
  dir: string;
}

/** The model a fine-tune starts from: the one asked for, else the active one, else the embedded default. */
export function resolveBase(
  deps: Pick<FineTuneDeps, 'models' | 'defaultModelDir'>,
  id: number | null | undefined,
): BaseModel | null {
  const m: ModelVersion | null = id ? deps.models.get(id) : deps.models.active();
  if (m) return { id: m.id, name: m.name, dir: m.dir };
  const dir = deps.defaultModelDir();
  return dir ? { id: null, name: path.basename(dir), dir } : null;
}

export function startFineTuneJob(
  deps: FineTuneDeps,
  jobs: JobService,
  args: Partial<FineTuneSettings> & { datasetId: number },
): Job {
  const ds = datasetInfo(deps.db, args.datasetId);
  const task = args.task ?? taskFor(ds.kind);
  if (task !== taskFor(ds.kind))
    throw new ApiError(
      'invalid_arguments',
      `A ${task} fine-tune needs a ${task === 'nlvr2' ? 'NLVR2' : 'COCO or Flickr30K'} dataset; ${ds.name} is ${ds.kind}.`,
    );
  const base = resolveBase(deps, args.baseModelId);
  if (!base) throw new ApiError('not_found', 'There is no model to fine-tune: import one in Models first.');
  const given = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
  const settings: FineTuneSettings = { ...defaults(task, base.id), ...given, task, baseModelId: base.id };
  let jobId = 0;
  const job = jobs.start(
    'finetune',
    `Fine-tune ${base.name} on ${ds.name} (${task === 'nlvr2' ? 'NLVR2' : 'retrieval'})`,
    { datasetId: ds.id, ...settings },
    (ctx) => runFineTune(deps, jobId, ds, base, settings, ctx, null),
  );
  jobId = job.id; // set before the runner starts (it starts on the next tick)
  deps.store.create({ jobId, datasetId: ds.id, task, baseModelId: base.id, baseDir: base.dir, config: settings });
  return job;
}

function within(ctx: JobContext, a: number, b: number, label: string): JobContext {
  return {
    signal: ctx.signal,
    throwIfCancelled: () => ctx.throwIfCancelled(),
    progress: (f, m) => ctx.progress(a + (b - a) * f, m ? `${label}: ${m}` : label),
  };
}

/** The held-out evaluation of a model, reusing an earlier identical run of the same model files (fingerprint). */
async function evaluate(
  deps: FineTuneDeps,
  dir: string,
  task: FineTuneSettings['task'],
  datasetId: number,
  ctx: JobContext,
) {
  const { runEvaluation } = await import('../eval/run-eval'); // ONNX Runtime only when needed
  const split = HELD_OUT[task];
  const reuse = findReusableRun(deps.db, { task, modelDir: dir, fingerprint: modelFingerprint(dir), datasetId, split });
  if (reuse !== undefined) return reuse;
  const cacheDir = path.join(deps.home.cache, 'embeddings');
  const device = deps.models.device();
  return (await runEvaluation(deps.db, { task, datasetId, split, modelDir: dir, k: 10, device, cacheDir }, ctx)).runId;
}

/**
 * The job's folder: the corrected data, the judged pairs and job.json for the trainer. The labels are those in
 * force at a label snapshot taken now (the data the model sees, kept as marks into the history): corrections
 * awaiting review are left out, and counted on the snapshot.
 */
export async function prepareFineTune(
  deps: Pick<FineTuneDeps, 'db' | 'labels'>,
  dir: string,
  jobId: number,
  ds: DatasetInfo,
  base: BaseModel,
  s: FineTuneSettings,
) {
  fs.mkdirSync(dir, { recursive: true });
  const data = path.join(dir, 'data');
  const snapshot =
    snapshotOfFineTune(deps.db, jobId) ??
    createSnapshot(deps.db, {
      datasetId: ds.id,
      name: `fine-tune ${jobId} of ${base.name}`,
      author: 'fine-tune',
      reason: 'finetune',
      finetuneJobId: jobId,
    });
  const at = snapshotMarks(snapshot);
  await exportDataset(deps.db, deps.labels, ds.id, data, at);
  const pairs = path.join(dir, 'pairs.jsonl');
  fs.writeFileSync(
    pairs,
    pairsInForce(deps.db, ds.id, at)
      .map((p) => JSON.stringify(p) + '\n')
      .join(''),
  );
  // the output folder's name becomes the model's name in mome.json (and in evaluation runs)
  const name = `${base.name}-ft-${ds.name}-${jobId}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const config = {
    task: s.task,
    base_model: base.dir,
    data,
    pairs,
    out: path.join(dir, name),
    epochs: s.epochs,
    max_steps: s.maxSteps,
    lr: s.lr,
    batch_size: s.batchSize,
    device: s.device,
    mode: s.mode,
    seed: s.seed,
    resume: true, // a later job in this folder continues from the checkpoint a stopped trainer left
    checkpoint: path.join(dir, 'checkpoint.pt'),
    // the trainer's own log: it keeps receiving lines when the app is gone (killed) and the trainer stops
    // with a checkpoint on its own; a resumed trainer appends to it
    log: path.join(dir, 'trainer.log'),
    log_every: 1,
    parent: { model_id: base.id, job_id: jobId, dataset_id: ds.id, dataset: ds.name, label_snapshot: snapshot.id },
  };
  fs.writeFileSync(path.join(dir, 'job.json'), JSON.stringify(config, null, 2));
}

/** `dir`: the job's own new folder, or the folder of the stopped fine-tune this job resumes. */
async function runFineTune(
  deps: FineTuneDeps,
  jobId: number,
  ds: DatasetInfo,
  base: BaseModel,
  s: FineTuneSettings,
  ctx: JobContext,
  resume: { dir: string; jobId: number } | null,
) {
  findPython(); // before any work: without an interpreter that imports torch, say so (with the install command)
  const dir = resume?.dir ?? jobDir(deps, jobId);
  if (!resume) {
    ctx.progress(0.01, 'Exporting the corrected dataset');
    await prepareFineTune(deps, dir, jobId, ds, base, s);
  }
  ctx.throwIfCancelled();
  // the held-out evaluation of a model, recorded on this fine-tune as its before or after run
  const heldOut = async (modelDir: string, field: 'before_run_id' | 'after_run_id', sub: JobContext) => {
    const runId = await evaluate(deps, modelDir, s.task, ds.id, sub);
    deps.store.update(jobId, { [field]: runId });
    return runId;
  };
  const beforeRunId = await heldOut(base.dir, 'before_run_id', within(ctx, 0.03, 0.13, 'Evaluating the base model'));
  ctx.throwIfCancelled();

  const configPath = path.join(dir, 'job.json');
  const out = (JSON.parse(fs.readFileSync(configPath, 'utf8')) as { out: string }).out;
  const trained = await train(deps, jobId, configPath, within(ctx, 0.13, 0.88, 'Training'));

  ctx.progress(0.88, 'Registering the new model version');
  const model = deps.models.registerFineTune(out, path.basename(out), base.id);
  deps.store.update(jobId, { model_id: model.id });
  const snapshot = snapshotOfFineTune(deps.db, resume?.jobId ?? jobId);
  if (snapshot) linkSnapshotModel(deps.db, snapshot.id, model.id);
  deps.modelsChanged(model.id);
  fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true }); // the snapshot hash names it

  const afterRunId = await heldOut(model.dir, 'after_run_id', within(ctx, 0.9, 1, 'Evaluating the fine-tuned model'));
  return {
    modelId: model.id,
    labelSnapshotId: snapshot?.id ?? null,
    pendingLeftOut: snapshot?.pendingLeftOut ?? 0,
    beforeRunId,
    afterRunId,
    ...trained,
    heldOut: heldOutDifference(deps.db, beforeRunId, afterRunId),
  };
}

/**
 * The new version's held-out result against its parent's, as the job's record of it: per metric the paired
 * Δ over the same queries with its 95% interval and label (McNemar for NLVR2). Kept with the job, not in
 * mome.json: the registry's version is the hash of mome.json, and the version exists (is registered and
 * evaluated) before this difference can be known, so writing it there would change an immutable version.
 */
function heldOutDifference(db: Db, beforeRunId: number, afterRunId: number) {
  const before = getEvalRun(db, beforeRunId);
  const after = getEvalRun(db, afterRunId);
  return {
    split: after.split,
    beforeRunId,
    afterRunId,
    bootstrap: DEFAULT_BOOTSTRAP,
    differences: compareIntervals(db, before, after, DEFAULT_BOOTSTRAP),
  };
}

export const jobDir = (deps: Pick<FineTuneDeps, 'home'>, jobId: number) =>
  path.join(deps.home.root, 'finetune', String(jobId));

/** Continues a cancelled or interrupted fine-tune from the checkpoint its trainer wrote, as a new job. */
export function resumeFineTuneJob(deps: FineTuneDeps, jobs: JobService, oldId: number): Job {
  const old = deps.store.get(oldId);
  if (!old) throw new ApiError('not_found', `Job ${oldId} is not a fine-tune.`);
  if (!['cancelled', 'interrupted', 'failed'].includes(old.job.state))
    throw new ApiError('conflict', `Fine-tune ${oldId} is ${old.job.state}; only a stopped one can be resumed.`);
  if (!old.resumable)
    throw new ApiError('conflict', `Fine-tune ${oldId} left no checkpoint to resume from; start a new fine-tune.`);
  const ds = datasetInfo(deps.db, old.datasetId);
  const name = old.baseModelId ? deps.models.getAny(old.baseModelId).name : path.basename(old.baseDir);
  const base: BaseModel = { id: old.baseModelId, name, dir: old.baseDir };
  const settings = old.config as FineTuneSettings;
  let jobId = 0;
  const job = jobs.start('finetune', `${old.job.title} (resumed)`, { ...settings, resumes: oldId }, (ctx) =>
    runFineTune(deps, jobId, ds, base, settings, ctx, { dir: jobDir(deps, oldId), jobId: oldId }),
  );
  jobId = job.id;
  deps.store.create({
    jobId,
    datasetId: ds.id,
    task: old.task,
    baseModelId: base.id,
    baseDir: base.dir,
    config: settings,
  });
  deps.store.copyPoints(oldId, jobId);
  return job;
}

/** Runs the trainer, storing its curve, mode and log; resolves when it has written the model folder. */
async function train(deps: FineTuneDeps, jobId: number, configPath: string, ctx: JobContext) {
  const tail = new LogTail((text) => deps.store.update(jobId, { log_tail: text }));
  let samplesPerS: number | null = null;
  let dataSnapshot: string | null = null;
  const onMessage = (m: TrainerMessage) => {
    tail.add(describe(m));
    if (m.type === 'start') {
      dataSnapshot = String(m.data_snapshot);
      deps.store.update(jobId, {
        mode: String(m.mode),
        mode_reason: String(m.mode_reason),
        device: String(m.device_reason),
        counts: { ...(m.counts as Record<string, number>), steps: Number(m.steps) },
        data_snapshot: dataSnapshot,
      });
    } else if (m.type === 'progress' && m.stage === 'train') {
      const p = m as unknown as {
        step: number;
        total: number;
        loss: number;
        lr: number;
        samples_per_s: number;
        eta_s: number;
      };
      deps.store.addPoint(jobId, { step: p.step, loss: p.loss, lr: p.lr, samplesPerS: p.samples_per_s });
      ctx.progress(
        0.08 + (0.88 * p.step) / p.total,
        `step ${p.step} of ${p.total}, loss ${p.loss.toFixed(4)}, ${p.samples_per_s.toFixed(1)} samples/s, ${Math.round(p.eta_s)} s left`,
      );
    } else if (m.type === 'progress' && m.stage === 'caching') {
      ctx.progress((0.08 * Number(m.done)) / Number(m.total), `caching features (${m.done} of ${m.total})`);
    } else if (m.type === 'progress' && m.stage === 'export') {
      ctx.progress(0.97, 'writing the model folder');
    } else if (m.type === 'done') {
      samplesPerS = Number(m.samples_per_s);
      deps.store.update(jobId, { samples_per_s: samplesPerS });
    }
  };
  const outcome = await runTrainer(
    configPath,
    ctx.signal,
    onMessage,
    (line) => tail.add(line),
    (pid) => tail.add(`Trainer started (pid ${pid}): python -m mome finetune --config ${configPath}`),
  ).finally(() => tail.flush());
  if (ctx.signal.aborted) throw new JobCancelled();
  if (outcome.code !== 0 || !outcome.done) {
    const why = outcome.error ?? tail.last() ?? `exit code ${outcome.code ?? outcome.signal}`;
    throw new Error(`The trainer failed: ${why}`);
  }
  return { samplesPerS, dataSnapshot, trainerMetrics: outcome.done.metrics ?? null };
}

/** One log line per trainer message. */
function describe(m: TrainerMessage): string {
  if (m.type === 'progress' && m.stage === 'train')
    return `step ${m.step}/${m.total} loss ${Number(m.loss).toFixed(4)} lr ${Number(m.lr).toExponential(2)} ${m.samples_per_s} samples/s`;
  if (m.type === 'start')
    return `${m.task} fine-tune, ${m.mode} mode (${m.mode_reason}); ${m.device_reason}; ${m.steps} steps`;
  const { type, time: _time, ...rest } = m;
  void _time;
  return `${type} ${JSON.stringify(rest)}`;
}
