// Two evaluation runs of the same dataset and split side by side: metric deltas (b − a), each with its paired
// 95% interval and what it amounts to (stats.ts), and the per-item flips. A retrieval query is a hit when its ground truth ranks below `at` (0-based rank < at); an NLVR2
// example stores rank 0 when predicted right and 1 when wrong, so the same rule holds with at = 1.
import { ApiError } from '../api/contract';
import type { EvalComparison, EvalFlip, EvalRun } from '../api/schemas';
import type { Db } from '../store/db';
import { getEvalRun } from './repository';
import { compareIntervals, DEFAULT_BOOTSTRAP, type BootstrapSettings } from './stats';

interface FlipRow {
  kind: EvalFlip['kind'];
  key: string;
  rankA: number;
  rankB: number;
  scoreA: number | null;
  scoreB: number | null;
}

function checkComparable(a: EvalRun, b: EvalRun): void {
  const differ = (what: string, x: unknown, y: unknown) =>
    new ApiError(
      'invalid_arguments',
      `Runs ${a.id} and ${b.id} cannot be compared: they differ in ${what} (${String(x)} vs ${String(y)}). Compare two runs of the same task on the same dataset and split.`,
    );
  if (a.task !== b.task) throw differ('task', a.task, b.task);
  if (a.datasetId !== b.datasetId) throw differ('dataset', a.datasetId, b.datasetId);
  if (a.split !== b.split) throw differ('split', a.split, b.split);
}

function metricDeltas(a: EvalRun, b: EvalRun): EvalComparison['metrics'] {
  const names = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])];
  return names.map((name) => {
    const x = a.metrics[name] ?? null;
    const y = b.metrics[name] ?? null;
    return { name, a: x, b: y, delta: x !== null && y !== null ? y - x : null };
  });
}

/** The text shown next to a flipped item: a caption, an image's file, or an NLVR2 sentence. */
function describe(db: Db, datasetId: number, rows: FlipRow[]): EvalFlip[] {
  const caption = db.prepare('SELECT raw FROM captions WHERE dataset_id = ? AND sentid = ?');
  const image = db.prepare('SELECT file FROM images WHERE dataset_id = ? AND source_id = ?');
  const nlvr2 = db.prepare('SELECT sentence FROM nlvr2_examples WHERE dataset_id = ? AND identifier = ?');
  return rows.map((r) => {
    const stmt = r.kind === 'caption' ? caption : r.kind === 'image' ? image : nlvr2;
    const row = stmt.raw(true).get(datasetId, r.kind === 'caption' ? Number(r.key) : r.key) as unknown[] | undefined;
    return { ...r, text: row ? String(row[0]) : null };
  });
}

export function compareEvalRuns(
  db: Db,
  q: { a: number; b: number; at: number; limit: number } & Partial<BootstrapSettings>,
): EvalComparison {
  const a = getEvalRun(db, q.a);
  const b = getEvalRun(db, q.b);
  checkComparable(a, b);
  const at = a.task === 'nlvr2' ? 1 : q.at;
  const bootstrap = { resamples: q.resamples ?? DEFAULT_BOOTSTRAP.resamples, seed: q.seed ?? DEFAULT_BOOTSTRAP.seed };
  const base = `FROM eval_items x JOIN eval_items y ON y.run_id = @b AND y.kind = x.kind AND y.item_key = x.item_key
     WHERE x.run_id = @a AND x.rank IS NOT NULL AND y.rank IS NOT NULL`;
  const params = { a: a.id, b: b.id, at, limit: q.limit };
  const compared = (db.prepare(`SELECT count(*) AS n ${base}`).get(params) as { n: number }).n;
  const flips = (cond: string, order: string) => {
    const sql = `SELECT x.kind AS kind, x.item_key AS key, x.rank AS rankA, y.rank AS rankB, x.score AS scoreA,
                        y.score AS scoreB ${base} AND ${cond}`;
    const total = (db.prepare(`SELECT count(*) AS n FROM (${sql})`).get(params) as { n: number }).n;
    const rows = db.prepare(`${sql} ORDER BY ${order}, x.kind, x.item_key LIMIT @limit`).all(params) as FlipRow[];
    return { total, items: describe(db, a.datasetId, rows) };
  };
  // the biggest moves first: fixed items that were ranked worst before, broken ones ranked worst after
  const fixed = flips('x.rank >= @at AND y.rank < @at', 'x.rank DESC');
  const broken = flips('x.rank < @at AND y.rank >= @at', 'y.rank DESC');
  return {
    a,
    b,
    at,
    metrics: metricDeltas(a, b),
    fixed: fixed.items,
    broken: broken.items,
    totals: { compared, fixed: fixed.total, broken: broken.total },
    differences: compareIntervals(db, a, b, bootstrap),
    bootstrap,
  };
}
