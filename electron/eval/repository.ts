// Reads of evaluation runs and their per-query results.
import { ApiError } from '../api/contract';
import type { EvalItem, EvalRun } from '../api/schemas';
import type { Db } from '../store/db';

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

export function getEvalItems(
  db: Db,
  q: {
    runId: number;
    kind: EvalItem['kind'];
    order: 'mistakenness' | 'rank';
    minRank?: number;
    offset: number;
    limit: number;
  },
): { total: number; offset: number; items: EvalItem[] } {
  const where = ['run_id = @runId', 'kind = @kind'];
  if (q.minRank !== undefined) where.push('rank >= @minRank');
  const w = where.join(' AND ');
  const total = (db.prepare(`SELECT count(*) AS n FROM eval_items WHERE ${w}`).get(q) as { n: number }).n;
  const order = q.order === 'rank' ? 'rank DESC, mistakenness DESC' : 'mistakenness DESC';
  const rows = db
    .prepare(`SELECT * FROM eval_items WHERE ${w} ORDER BY ${order} LIMIT @limit OFFSET @offset`)
    .all(q) as {
    kind: EvalItem['kind'];
    item_key: string;
    rank: number | null;
    score: number | null;
    mistakenness: number;
    top: string | null;
  }[];
  return {
    total,
    offset: q.offset,
    items: rows.map((r) => ({
      kind: r.kind,
      key: r.item_key,
      rank: r.rank,
      score: r.score,
      mistakenness: r.mistakenness,
      top: r.top ? JSON.parse(r.top) : null,
    })),
  };
}
