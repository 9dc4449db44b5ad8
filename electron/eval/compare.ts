// Two evaluation runs of the same dataset and split side by side: metric deltas (b − a), each with its paired
// 95% interval and what it amounts to (stats.ts), and the per-item flips. A retrieval query is a hit when its ground truth ranks below `at` (0-based rank < at); an NLVR2
// example stores rank 0 when predicted right and 1 when wrong, so the same rule holds with at = 1.
import { ApiError } from '../api/contract';
import type { EvalComparison, EvalFlip, EvalRun } from '../api/schemas';
import type { Db } from '../store/db';
import { itemLookups } from '../datasets/items';
import { flippedItems, pairedCount, type FlipRow } from './items';
import { getEvalRun } from './repository';
import { compareIntervals, DEFAULT_BOOTSTRAP, type BootstrapSettings } from './stats';

export function checkComparable(a: EvalRun, b: EvalRun): void {
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
  const items = itemLookups(db);
  return rows.map((r) => ({ ...r, text: items.text(datasetId, r.kind, r.key) }));
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
  const params = { a: a.id, b: b.id, at, limit: q.limit };
  const compared = pairedCount(db, a.id, b.id);
  const flips = (which: 'fixed' | 'broken') => {
    const { total, rows } = flippedItems(db, params, which);
    return { total, items: describe(db, a.datasetId, rows) };
  };
  const fixed = flips('fixed');
  const broken = flips('broken');
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
