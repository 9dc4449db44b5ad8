// The eval_runs table: storing an evaluation run (its per-query results go to eval/items.ts in the same
// transaction, or in batches while the run is 'writing') and reading runs. Every read sees complete runs only.
import { ApiError } from '../api/contract';
import type { EvalRun } from '../api/schemas';
import { now, type Db } from '../store/db';
import { processAlive } from '../datasets/repository';
import { evalItemsPage, insertEvalItems } from './items';
import type { ItemRow as NewItem } from './types';

interface RunRow {
  id: number;
  task: EvalRun['task'];
  model_name: string;
  model_dir: string;
  model_version: string;
  dataset_id: number;
  split: string;
  options: string;
  metrics: string;
  provider: string;
  seconds: number;
  created_at: string;
}

/** What a run records beside its per-query rows. */
export interface RunFacts {
  task: EvalRun['task'];
  modelName: string;
  modelDir: string;
  /** The model folder's fingerprint (models/model-folder.ts), stored as the run's model_version. */
  fingerprint: string;
  datasetId: number;
  split: string;
  options: object;
  provider: string;
}

function insertRun(db: Db, r: RunFacts, state: 'writing' | 'complete', metrics: object, seconds: number): number {
  return Number(
    db
      .prepare(
        `INSERT INTO eval_runs (task, model_name, model_dir, model_version, dataset_id, split, options, metrics, provider, seconds, created_at, state, busy_pid)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.task,
        r.modelName,
        r.modelDir,
        r.fingerprint,
        r.datasetId,
        r.split,
        JSON.stringify(r.options),
        JSON.stringify(metrics),
        r.provider,
        seconds,
        now(),
        state,
        state === 'writing' ? process.pid : null,
      ).lastInsertRowid,
  );
}

/** Stores a run and its per-query results in one transaction; returns the run's id. */
export function saveEvalRun(db: Db, r: RunFacts & { metrics: object; seconds: number; items: NewItem[] }): number {
  return db.transaction(() => {
    const runId = insertRun(db, r, 'complete', r.metrics, r.seconds);
    insertEvalItems(db, runId, r.items);
    return runId;
  })();
}

/**
 * A run written in steps: `add` stores a batch of rows in its own transaction while the run stays hidden;
 * `finish` records the metrics and makes it visible in one transaction; `abandon` deletes what was written (a
 * failed or cancelled run). A process killed before `finish` leaves a hidden run that `recoverEvalRuns` deletes.
 */
export class EvalRunWriter {
  readonly runId: number;
  private readonly insert: (items: NewItem[]) => void;
  private done = false;

  constructor(
    private readonly db: Db,
    r: RunFacts,
  ) {
    this.runId = insertRun(db, r, 'writing', {}, 0);
    this.insert = db.transaction((items: NewItem[]) => insertEvalItems(db, this.runId, items));
  }

  add(items: NewItem[]): void {
    if (this.done) throw new Error(`evaluation run ${this.runId} is already finished`);
    if (items.length) this.insert(items);
  }

  finish(metrics: object, seconds: number, last: NewItem[] = []): void {
    this.db.transaction(() => {
      insertEvalItems(this.db, this.runId, last);
      this.db
        .prepare(
          `UPDATE eval_runs SET metrics = ?, seconds = ?, state = 'complete', busy_pid = NULL WHERE id = ? AND state = 'writing'`,
        )
        .run(JSON.stringify(metrics), seconds, this.runId);
    })();
    this.done = true;
  }

  /** Deletes what was written (a failed or cancelled run; many rows: recoverEvalRuns deletes in steps). */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    deleteRun(this.db, this.runId);
  }
}

function deleteRun(db: Db, runId: number): void {
  db.transaction(() => {
    db.prepare('DELETE FROM eval_items WHERE run_id = ?').run(runId);
    db.prepare(`DELETE FROM eval_runs WHERE id = ? AND state = 'writing'`).run(runId);
  })();
}

/**
 * At start-up: the partial runs of processes that are gone (killed while writing), deleted a few thousand rows
 * at a time with a turn for other work between (a killed million-image run left millions); hidden meanwhile, and
 * a start after another kill finds them again. Resolves with how many runs were deleted.
 */
export async function recoverEvalRuns(db: Db): Promise<number> {
  const rows = db.prepare(`SELECT id, busy_pid FROM eval_runs WHERE state = 'writing'`).all() as {
    id: number;
    busy_pid: number | null;
  }[];
  const stale = rows.filter((r) => r.busy_pid === null || (r.busy_pid !== process.pid && !processAlive(r.busy_pid)));
  const step = db.prepare(
    `DELETE FROM eval_items WHERE run_id = @id AND (kind, item_key) IN
       (SELECT kind, item_key FROM eval_items WHERE run_id = @id LIMIT 5000)`,
  );
  for (const r of stale) {
    for (;;) {
      if (!db.open) return 0; // closed meanwhile: the next start goes on
      if (step.run({ id: r.id }).changes === 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!db.open) return 0;
    deleteRun(db, r.id);
  }
  return stale.length;
}

/** The newest run without re-ranking of a model folder (by fingerprint) on a split: an identical run to reuse. */
export function findReusableRun(
  db: Db,
  q: { task: EvalRun['task']; modelDir: string; fingerprint: string; datasetId: number; split: string },
): number | undefined {
  const row = db
    .prepare(
      `SELECT id FROM eval_runs WHERE state = 'complete' AND task = ? AND model_dir = ? AND model_version = ? AND dataset_id = ? AND split = ?
       AND coalesce(json_extract(options, '$.rerankK'), 0) = 0 ORDER BY id DESC LIMIT 1`,
    )
    .get(q.task, q.modelDir, q.fingerprint, q.datasetId, q.split) as { id: number } | undefined;
  return row?.id;
}

export function listEvalRuns(db: Db, datasetId?: number): EvalRun[] {
  const rows = (
    datasetId
      ? db
          .prepare(`SELECT * FROM eval_runs WHERE state = 'complete' AND dataset_id = ? ORDER BY id DESC`)
          .all(datasetId)
      : db.prepare(`SELECT * FROM eval_runs WHERE state = 'complete' ORDER BY id DESC`).all()
  ) as RunRow[];
  return rows.map(toRun);
}

export function getEvalRun(db: Db, id: number): EvalRun {
  const row = db.prepare(`SELECT * FROM eval_runs WHERE id = ? AND state = 'complete'`).get(id) as RunRow | undefined;
  if (!row) throw new ApiError('not_found', `There is no evaluation run ${id}.`);
  return toRun(row);
}

function toRun(r: RunRow): EvalRun {
  return {
    id: r.id,
    task: r.task,
    modelName: r.model_name,
    modelDir: r.model_dir,
    modelVersion: r.model_version,
    datasetId: r.dataset_id,
    split: r.split,
    options: JSON.parse(r.options),
    metrics: JSON.parse(r.metrics),
    provider: r.provider,
    seconds: r.seconds,
    createdAt: r.created_at,
  };
}

/** One page of a run's queries of one kind (eval/items.ts: evalItemsPage says which and in what order). */
export function getEvalItems(db: Db, q: Parameters<typeof evalItemsPage>[2]): ReturnType<typeof evalItemsPage> {
  return evalItemsPage(db, getEvalRun(db, q.runId).datasetId, q);
}
