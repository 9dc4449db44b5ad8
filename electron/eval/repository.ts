// The eval_runs and eval_items tables: storing an evaluation run with its per-query results, and reading them.
import { ApiError } from '../api/contract';
import type { EvalItem, EvalRun } from '../api/schemas';
import { now, type Db } from '../store/db';
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
    const ins = db.prepare(
      'INSERT INTO eval_items (run_id, kind, item_key, rank, score, mistakenness, top) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const it of r.items) ins.run(runId, ...it);
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

interface ItemRow {
  kind: EvalItem['kind'];
  item_key: string;
  rank: number | null;
  score: number | null;
  mistakenness: number;
  top: string | null;
  text: string | null;
  split?: string | null;
}

/** Each item with the text a person reads: the caption, the image's file, or the NLVR2 sentence. */
const ITEMS_WITH_TEXT = `
  FROM eval_items e
  LEFT JOIN captions c ON e.kind = 'caption' AND c.dataset_id = @datasetId AND c.sentid = CAST(e.item_key AS INTEGER)
  LEFT JOIN images ci ON ci.id = c.image_id
  LEFT JOIN images i ON e.kind = 'image' AND i.dataset_id = @datasetId AND i.source_id = e.item_key
  LEFT JOIN nlvr2_examples n ON e.kind = 'nlvr2' AND n.dataset_id = @datasetId AND n.identifier = e.item_key`;

/**
 * One page of a run's queries of one kind: worst ground-truth rank first or most likely label error first,
 * optionally only those missed at R@minRank, and only those whose text (or id) contains `search`.
 */
export function getEvalItems(
  db: Db,
  q: {
    runId: number;
    kind: EvalItem['kind'];
    order: 'mistakenness' | 'rank';
    minRank?: number;
    search?: string;
    offset: number;
    limit: number;
  },
): { total: number; offset: number; items: EvalItem[] } {
  const run = getEvalRun(db, q.runId);
  const where = ['e.run_id = @runId', 'e.kind = @kind'];
  if (q.minRank !== undefined) where.push('e.rank >= @minRank');
  const search = q.search?.trim();
  if (search) {
    where.push(`(e.item_key = @search OR instr(lower(COALESCE(c.raw, i.file, n.sentence)), lower(@search)) > 0
      OR (e.kind = 'image' AND EXISTS (SELECT 1 FROM captions c2 WHERE c2.image_id = i.id AND instr(lower(c2.raw), lower(@search)) > 0)))`);
  }
  const params = { ...q, search: search ?? null, minRank: q.minRank ?? null, datasetId: run.datasetId };
  const w = where.join(' AND ');
  const total = (db.prepare(`SELECT count(*) AS n ${ITEMS_WITH_TEXT} WHERE ${w}`).get(params) as { n: number }).n;
  const order = q.order === 'rank' ? 'e.rank DESC, e.mistakenness DESC' : 'e.mistakenness DESC';
  const rows = db
    .prepare(
      `SELECT e.*, COALESCE(c.raw, i.file, n.sentence) AS text, COALESCE(ci.split, i.split, n.split) AS split
       ${ITEMS_WITH_TEXT} WHERE ${w}
       ORDER BY ${order}, e.item_key LIMIT @limit OFFSET @offset`,
    )
    .all(params) as ItemRow[];
  return { total, offset: q.offset, items: rows.map(toItem) };
}

export function toItem(r: ItemRow): EvalItem {
  return {
    kind: r.kind,
    key: r.item_key,
    rank: r.rank,
    score: r.score,
    mistakenness: r.mistakenness,
    top: r.top ? JSON.parse(r.top) : null,
    text: r.text,
    ...(r.split !== undefined ? { split: r.split } : {}),
  };
}
