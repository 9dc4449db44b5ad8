// The eval_runs table: storing an evaluation run (its per-query results go to eval/items.ts in the same
// transaction) and reading runs.
import { ApiError } from '../api/contract';
import type { EvalRun } from '../api/schemas';
import { now, type Db } from '../store/db';
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

/** Stores a run and its per-query results in one transaction; returns the run's id. */
export function saveEvalRun(
  db: Db,
  r: {
    task: EvalRun['task'];
    modelName: string;
    modelDir: string;
    /** The model folder's fingerprint (models/model-folder.ts), stored as the run's model_version. */
    fingerprint: string;
    datasetId: number;
    split: string;
    options: object;
    metrics: object;
    provider: string;
    seconds: number;
    items: NewItem[];
  },
): number {
  return db.transaction(() => {
    const runId = Number(
      db
        .prepare(
          `INSERT INTO eval_runs (task, model_name, model_dir, model_version, dataset_id, split, options, metrics, provider, seconds, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.task,
          r.modelName,
          r.modelDir,
          r.fingerprint,
          r.datasetId,
          r.split,
          JSON.stringify(r.options),
          JSON.stringify(r.metrics),
          r.provider,
          r.seconds,
          now(),
        ).lastInsertRowid,
    );
    insertEvalItems(db, runId, r.items);
    return runId;
  })();
}

/** The newest run without re-ranking of a model folder (by fingerprint) on a split: an identical run to reuse. */
export function findReusableRun(
  db: Db,
  q: { task: EvalRun['task']; modelDir: string; fingerprint: string; datasetId: number; split: string },
): number | undefined {
  const row = db
    .prepare(
      `SELECT id FROM eval_runs WHERE task = ? AND model_dir = ? AND model_version = ? AND dataset_id = ? AND split = ?
       AND coalesce(json_extract(options, '$.rerankK'), 0) = 0 ORDER BY id DESC LIMIT 1`,
    )
    .get(q.task, q.modelDir, q.fingerprint, q.datasetId, q.split) as { id: number } | undefined;
  return row?.id;
}

export function listEvalRuns(db: Db, datasetId?: number): EvalRun[] {
  const rows = (
    datasetId
      ? db.prepare('SELECT * FROM eval_runs WHERE dataset_id = ? ORDER BY id DESC').all(datasetId)
      : db.prepare('SELECT * FROM eval_runs ORDER BY id DESC').all()
  ) as RunRow[];
  return rows.map(toRun);
}

export function getEvalRun(db: Db, id: number): EvalRun {
  const row = db.prepare('SELECT * FROM eval_runs WHERE id = ?').get(id) as RunRow | undefined;
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
