// A run at a glance: histograms of where the ground truth ranks and of the score margins (own score minus
// the best other one: negative means the model prefers another item), the misses at R@1/5/10, and for
// NLVR2 the confusion matrix of given label against prediction.
import type { EvalSummary, HistogramBin } from '../api/schemas';
import type { Db } from '../store/db';
import { itemOutcomes } from './items';
import { getEvalRun } from './repository';

/** Rank bins (1-based, inclusive), coarser as ranks grow: the head matters for R@k, the tail for errors. */
const RANK_EDGES = [1, 2, 3, 6, 11, 21, 51, 101, 501, 1001];

export function rankHistogram(ranks: number[]): HistogramBin[] {
  return RANK_EDGES.map((from, j) => {
    const to = RANK_EDGES[j + 1] ?? Infinity;
    const label = to === Infinity ? `${from}+` : to - from === 1 ? `${from}` : `${from}–${to - 1}`;
    // 0-based ranks in the store, 1-based on the axis
    const count = ranks.filter((r) => r + 1 >= from && r + 1 < to).length;
    return { label, from, to: to === Infinity ? from : to - 1, count };
  });
}

export function marginHistogram(margins: number[], bins = 20): HistogramBin[] {
  if (margins.length === 0) return [];
  // a loop, not Math.min(...xs): a full COCO run has more margins than a call takes arguments
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of margins) {
    lo = Math.min(lo, m);
    hi = Math.max(hi, m);
  }
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const w = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const m of margins) counts[Math.min(bins - 1, Math.floor((m - lo) / w))]++;
  return counts.map((count, j) => {
    const from = lo + j * w;
    return { label: `${from.toFixed(3)}`, from, to: from + w, count };
  });
}

export function getEvalSummary(db: Db, runId: number): EvalSummary {
  const run = getEvalRun(db, runId);
  const rows = itemOutcomes(db, runId);
  const of = (kind: string) => rows.filter((r) => r.kind === kind);
  const histograms: EvalSummary['histograms'] = [];
  const missed: EvalSummary['missed'] = [];
  const totals: Record<string, number> = {};
  for (const kind of ['caption', 'image', 'nlvr2'] as const) {
    const xs = of(kind);
    if (xs.length === 0) continue;
    totals[kind] = xs.length;
    const ranks = xs.filter((x) => x.rank !== null).map((x) => x.rank!);
    for (const at of kind === 'nlvr2' ? [1] : [1, 5, 10])
      missed.push({ kind, at, count: ranks.filter((r) => r >= at).length });
    if (kind === 'nlvr2') continue;
    histograms.push({ kind, what: 'rank', bins: rankHistogram(ranks) });
    histograms.push({ kind, what: 'margin', bins: marginHistogram(xs.map((x) => -x.mistakenness)) });
  }
  return { runId: run.id, histograms, missed, totals, confusion: run.task === 'nlvr2' ? confusion(of('nlvr2')) : null };
}

/** Rows: the given label; columns: the prediction (p(True) ≥ 0.5). The stored rank says right (0) or wrong (1). */
function confusion(xs: { rank: number | null; score: number | null }[]): NonNullable<EvalSummary['confusion']> {
  const m = { trueTrue: 0, trueFalse: 0, falseTrue: 0, falseFalse: 0 };
  for (const x of xs) {
    if (x.rank === null || x.score === null) continue;
    const predicted = x.score >= 0.5;
    const label = x.rank === 0 ? predicted : !predicted;
    if (label) m[predicted ? 'trueTrue' : 'trueFalse']++;
    else m[predicted ? 'falseTrue' : 'falseFalse']++;
  }
  return m;
}
