// The eval_items table: a run's per-query results, stored with the run (repository.ts) and read here. A read
// that joins them with a dataset's items (captions, images, NLVR2 examples) lives here too: a join of two
// owners' tables belongs to the owner on the higher floor, and eval/ sits above datasets/. Those joins stay
// single statements: a full COCO run has 25,000 caption queries.
import { ApiError } from '../api/contract';
import type { EvalItem, EvalItemKind } from '../api/schemas';
import type { Db } from '../store/db';
import type { ItemRow as NewItem } from './types';

type Kind = EvalItemKind;

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

/** Stores a run's per-query results; the caller holds the transaction that stores the run. */
export function insertEvalItems(db: Db, runId: number, items: NewItem[]): void {
  const ins = db.prepare(
    'INSERT INTO eval_items (run_id, kind, item_key, rank, score, mistakenness, top) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  for (const it of items) ins.run(runId, ...it);
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
export function evalItemsPage(
  db: Db,
  datasetId: number,
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
  const where = ['e.run_id = @runId', 'e.kind = @kind'];
  if (q.minRank !== undefined) where.push('e.rank >= @minRank');
  const search = q.search?.trim();
  if (search) {
    where.push(`(e.item_key = @search OR instr(lower(COALESCE(c.raw, i.file, n.sentence)), lower(@search)) > 0
      OR (e.kind = 'image' AND EXISTS (SELECT 1 FROM captions c2 WHERE c2.image_id = i.id AND instr(lower(c2.raw), lower(@search)) > 0)))`);
  }
  const params = { ...q, search: search ?? null, minRank: q.minRank ?? null, datasetId };
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

function toItem(r: ItemRow): EvalItem {
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

/** One query of a run, without its text (the caller reads the item it is about). */
export function evalItem(db: Db, runId: number, kind: string, key: string): EvalItem {
  const row = db
    .prepare('SELECT *, NULL AS text FROM eval_items WHERE run_id = ? AND kind = ? AND item_key = ?')
    .get(runId, kind, key) as ItemRow | undefined;
  if (!row) throw new ApiError('not_found', `Run ${runId} has no ${kind} ${key}.`);
  return toItem(row);
}

/** A run's result for one caption query, prepared once for callers that look up many. */
export function captionResults(db: Db, runId: number) {
  const stmt = db.prepare(`SELECT rank, score FROM eval_items WHERE run_id = ? AND kind = 'caption' AND item_key = ?`);
  return (sentid: number) =>
    stmt.get(runId, String(sentid)) as { rank: number | null; score: number | null } | undefined;
}

/** The run's ranks of one kind, by item key: the order the paired statistics rely on. */
export function rankedRanks(db: Db, runId: number, kind: Kind): number[] {
  return db
    .prepare('SELECT rank FROM eval_items WHERE run_id = ? AND kind = ? AND rank IS NOT NULL ORDER BY item_key')
    .pluck()
    .all(runId, kind) as number[];
}

/** The ranks of the queries both runs ranked, as [rank in a, rank in b], by item key. */
export function pairedRanks(db: Db, a: number, b: number, kind: Kind): [number, number][] {
  return db
    .prepare(
      `SELECT x.rank, y.rank FROM eval_items x
       JOIN eval_items y ON y.run_id = @b AND y.kind = x.kind AND y.item_key = x.item_key
       WHERE x.run_id = @a AND x.kind = @kind AND x.rank IS NOT NULL AND y.rank IS NOT NULL ORDER BY x.item_key`,
    )
    .raw(true)
    .all({ a, b, kind }) as [number, number][];
}

export interface FlipRow {
  kind: EvalItem['kind'];
  key: string;
  rankA: number;
  rankB: number;
  scoreA: number | null;
  scoreB: number | null;
}

const PAIRED = `FROM eval_items x JOIN eval_items y ON y.run_id = @b AND y.kind = x.kind AND y.item_key = x.item_key
     WHERE x.run_id = @a AND x.rank IS NOT NULL AND y.rank IS NOT NULL`;

/** How many queries both runs ranked. */
export function pairedCount(db: Db, a: number, b: number): number {
  return (db.prepare(`SELECT count(*) AS n ${PAIRED}`).get({ a, b }) as { n: number }).n;
}

/**
 * The queries a hit in one run and a miss in the other (a hit: rank < at), the biggest moves first: `fixed`
 * missed in a and hit in b, worst rank in a first; `broken` the other way, worst rank in b first.
 */
export function flippedItems(
  db: Db,
  q: { a: number; b: number; at: number; limit: number },
  which: 'fixed' | 'broken',
): { total: number; rows: FlipRow[] } {
  const [cond, order] =
    which === 'fixed'
      ? ['x.rank >= @at AND y.rank < @at', 'x.rank DESC']
      : ['x.rank < @at AND y.rank >= @at', 'y.rank DESC'];
  const sql = `SELECT x.kind AS kind, x.item_key AS key, x.rank AS rankA, y.rank AS rankB, x.score AS scoreA,
                      y.score AS scoreB ${PAIRED} AND ${cond}`;
  const total = (db.prepare(`SELECT count(*) AS n FROM (${sql})`).get(q) as { n: number }).n;
  const rows = db.prepare(`${sql} ORDER BY ${order}, x.kind, x.item_key LIMIT @limit`).all(q) as FlipRow[];
  return { total, rows };
}

/** Every query of a run with what the summary counts. */
export function itemOutcomes(
  db: Db,
  runId: number,
): { kind: Kind; rank: number | null; score: number | null; mistakenness: number }[] {
  return db.prepare('SELECT kind, rank, score, mistakenness FROM eval_items WHERE run_id = ?').all(runId) as {
    kind: Kind;
    rank: number | null;
    score: number | null;
    mistakenness: number;
  }[];
}

/** Every query of a run with its rank, keyed "kind:key". */
export function itemRanks(db: Db, runId: number): Map<string, number | null> {
  const rows = db.prepare('SELECT kind, item_key, rank FROM eval_items WHERE run_id = ?').all(runId) as {
    kind: string;
    item_key: string;
    rank: number | null;
  }[];
  return new Map(rows.map((r) => [`${r.kind}:${r.item_key}`, r.rank]));
}

/** A run's queries of one kind with their rank and stored top-k list. */
export function itemsOfKind(
  db: Db,
  runId: number,
  kind: Kind,
): { item_key: string; rank: number | null; top: string | null }[] {
  return db.prepare('SELECT item_key, rank, top FROM eval_items WHERE run_id = ? AND kind = ?').all(runId, kind) as {
    item_key: string;
    rank: number | null;
    top: string | null;
  }[];
}

/** Each caption query of a run → the imgid of its image as imported. */
export function captionQueryImages(db: Db, runId: number, datasetId: number): Map<string, string> {
  return new Map(
    db
      .prepare(
        `SELECT e.item_key AS sentid, i.source_id FROM eval_items e
         JOIN captions c ON c.dataset_id = @datasetId AND c.sentid = CAST(e.item_key AS INTEGER)
         JOIN images i ON i.id = c.image_id WHERE e.run_id = @runId AND e.kind = 'caption'`,
      )
      .raw(true)
      .all({ datasetId, runId }) as [string, string][],
  );
}

export interface RankedQuery {
  key: string;
  rank: number;
  text: string;
  split: string | null;
  /** An image query: its captions' texts (the words it is described with). */
  captions?: string;
  /** The image a retrieval query is of (an image query's own, a caption's image): its file in the dataset. */
  imageFile?: string;
}

/** A run's ranked queries of one kind with their text and split (and an image's captions). */
export function rankedQueries(db: Db, runId: number, datasetId: number, kind: Kind): RankedQuery[] {
  if (kind === 'caption')
    return db
      .prepare(
        `SELECT e.item_key AS key, e.rank, c.raw AS text, i.split, i.file AS imageFile FROM eval_items e
         JOIN captions c ON c.dataset_id = @datasetId AND c.sentid = CAST(e.item_key AS INTEGER)
         JOIN images i ON i.id = c.image_id
         WHERE e.run_id = @runId AND e.kind = 'caption' AND e.rank IS NOT NULL`,
      )
      .all({ runId, datasetId }) as RankedQuery[];
  if (kind === 'image')
    return db
      .prepare(
        `SELECT e.item_key AS key, e.rank, i.file AS text, i.split, i.file AS imageFile,
                (SELECT group_concat(c.raw, ' | ') FROM captions c WHERE c.image_id = i.id) AS captions
         FROM eval_items e JOIN images i ON i.dataset_id = @datasetId AND i.source_id = e.item_key
         WHERE e.run_id = @runId AND e.kind = 'image' AND e.rank IS NOT NULL`,
      )
      .all({ runId, datasetId }) as RankedQuery[];
  return db
    .prepare(
      `SELECT e.item_key AS key, e.rank, n.sentence AS text, n.split FROM eval_items e
       JOIN nlvr2_examples n ON n.dataset_id = @datasetId AND n.identifier = e.item_key
       WHERE e.run_id = @runId AND e.kind = 'nlvr2' AND e.rank IS NOT NULL`,
    )
    .all({ runId, datasetId }) as RankedQuery[];
}

/** The text (caption, image file or NLVR2 sentence) and split of some queries of a run, by item key. */
export function itemTexts(
  db: Db,
  datasetId: number,
  runId: number,
  kind: Kind,
  keys: string[],
): Map<string, { text: string | null; split: string | null }> {
  const stmt = db.prepare(
    `SELECT COALESCE(c.raw, i.file, n.sentence) AS text, COALESCE(ci.split, i.split, n.split) AS split
     ${ITEMS_WITH_TEXT} WHERE e.run_id = @runId AND e.kind = @kind AND e.item_key = @key`,
  );
  const out = new Map<string, { text: string | null; split: string | null }>();
  for (const key of keys) {
    const r = stmt.get({ datasetId, runId, kind, key }) as { text: string | null; split: string | null } | undefined;
    out.set(key, { text: r?.text ?? null, split: r?.split ?? null });
  }
  return out;
}

/** A run's queries of one kind with their label-error score (mistakenness), in item-key order. */
export function itemMistakenness(db: Db, runId: number, kind: Kind): { key: string; mistakenness: number }[] {
  return db
    .prepare('SELECT item_key AS key, mistakenness FROM eval_items WHERE run_id = ? AND kind = ? ORDER BY item_key')
    .all(runId, kind) as { key: string; mistakenness: number }[];
}
