// Fine-tune records: one row per fine-tune job (what it trained on, from which model, what it produced) and
// its loss/lr curve, read back together with the job for the Fine-tune view.
import fs from 'node:fs';
import path from 'node:path';
import type { FineTune, FineTunePoint } from '../api/schemas';
import type { JobService } from '../jobs/service';
import { now, type Db } from '../store/db';
import { snapshotOfFineTune, snapshotOfModel } from '../labels/snapshots';

interface Row {
  job_id: number;
  dataset_id: number;
  task: FineTune['task'];
  base_model_id: number | null;
  base_dir: string;
  config: string;
  counts: string;
  data_snapshot: string | null;
  mode: string | null;
  mode_reason: string | null;
  device: string | null;
  model_id: number | null;
  before_run_id: number | null;
  after_run_id: number | null;
  samples_per_s: number | null;
  log_tail: string;
  created_at: string;
}

export interface FineTuneUpdate {
  counts?: Record<string, number>;
  data_snapshot?: string;
  mode?: string;
  mode_reason?: string;
  device?: string;
  model_id?: number;
  before_run_id?: number;
  after_run_id?: number;
  samples_per_s?: number;
  log_tail?: string;
}

export class FineTuneStore {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobService,
    /** Where each fine-tune's folder (and its trainer's checkpoint) is. */
    private readonly jobDir: (jobId: number) => string,
  ) {}

  create(r: {
    jobId: number;
    datasetId: number;
    task: string;
    baseModelId: number | null;
    baseDir: string;
    config: object;
  }) {
    this.db
      .prepare(
        `INSERT INTO finetunes (job_id, dataset_id, task, base_model_id, base_dir, config, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.jobId, r.datasetId, r.task, r.baseModelId, r.baseDir, JSON.stringify(r.config), now());
  }

  update(jobId: number, u: FineTuneUpdate): void {
    const entries = Object.entries(u).filter(([, v]) => v !== undefined);
    if (!entries.length) return;
    const sets = entries.map(([k]) => `${k} = @${k}`).join(', ');
    const values = Object.fromEntries(entries.map(([k, v]) => [k, k === 'counts' ? JSON.stringify(v) : v]));
    this.db.prepare(`UPDATE finetunes SET ${sets} WHERE job_id = @jobId`).run({ ...values, jobId });
  }

  addPoint(jobId: number, p: FineTunePoint): void {
    this.db
      .prepare(
        `INSERT INTO finetune_points (job_id, step, loss, lr, samples_per_s) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(job_id, step) DO UPDATE SET loss = excluded.loss, lr = excluded.lr, samples_per_s = excluded.samples_per_s`,
      )
      .run(jobId, p.step, p.loss, p.lr, p.samplesPerS);
  }

  /** A resumed fine-tune starts with the curve of the one it continues (the trainer goes on from its step). */
  copyPoints(from: number, to: number): void {
    this.db
      .prepare(
        `INSERT INTO finetune_points (job_id, step, loss, lr, samples_per_s) SELECT ?, step, loss, lr, samples_per_s
         FROM finetune_points WHERE job_id = ?`,
      )
      .run(to, from);
  }

  get(jobId: number): FineTune | null {
    const r = this.db.prepare('SELECT * FROM finetunes WHERE job_id = ?').get(jobId) as Row | undefined;
    return r ? this.toFineTune(r) : null;
  }

  list(datasetId?: number): FineTune[] {
    const rows = (
      datasetId
        ? this.db.prepare('SELECT * FROM finetunes WHERE dataset_id = ? ORDER BY job_id DESC').all(datasetId)
        : this.db.prepare('SELECT * FROM finetunes ORDER BY job_id DESC').all()
    ) as Row[];
    return rows.map((r) => this.toFineTune(r));
  }

  /** Samples per second an earlier fine-tune of the same model, task and mode reached here (for estimates). */
  measuredRate(baseDir: string, task: string, mode: string): number | null {
    const r = this.db
      .prepare(
        `SELECT samples_per_s FROM finetunes WHERE base_dir = ? AND task = ? AND (? = 'auto' OR mode = ?) AND samples_per_s > 0
         ORDER BY job_id DESC LIMIT 1`,
      )
      .get(baseDir, task, mode, mode) as { samples_per_s: number } | undefined;
    return r?.samples_per_s ?? null;
  }

  private toFineTune(r: Row): FineTune {
    const points = this.db
      .prepare('SELECT step, loss, lr, samples_per_s FROM finetune_points WHERE job_id = ? ORDER BY step')
      .all(r.job_id) as { step: number; loss: number; lr: number; samples_per_s: number | null }[];
    return {
      jobId: r.job_id,
      job: this.jobs.get(r.job_id),
      datasetId: r.dataset_id,
      task: r.task,
      baseModelId: r.base_model_id,
      baseDir: r.base_dir,
      config: JSON.parse(r.config),
      counts: JSON.parse(r.counts),
      dataSnapshot: r.data_snapshot,
      mode: r.mode,
      modeReason: r.mode_reason,
      device: r.device,
      modelId: r.model_id,
      beforeRunId: r.before_run_id,
      afterRunId: r.after_run_id,
      samplesPerS: r.samples_per_s,
      points: points.map((p) => ({ step: p.step, loss: p.loss, lr: p.lr, samplesPerS: p.samples_per_s })),
      logTail: r.log_tail ? r.log_tail.split('\n') : [],
      resumable: fs.existsSync(path.join(this.jobDir(r.job_id), 'checkpoint.pt')),
      labelSnapshotId: snapshotOfFineTune(this.db, r.job_id)?.id ?? null,
      parentLabelSnapshotId: r.base_model_id === null ? null : (snapshotOfModel(this.db, r.base_model_id)?.id ?? null),
      createdAt: r.created_at,
    };
  }
}
