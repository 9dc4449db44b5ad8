// How far to trust a run's figures: 95% bootstrap intervals of each metric over the run's queries, and for two
// runs of the same split the paired difference with its interval, the exact McNemar test (NLVR2) and a label.
// Computed on read from the per-query ranks in eval_items, not stored: a run's queries never change, the cost
// is a fraction of a second for a full COCO test run (cached per run after that), every older run gets them
// too, and the number of resamples stays a choice of the reader rather than of the run.
import type { EvalItemKind, EvalRun } from '../api/schemas';
import type { Db } from '../store/db';
import { perDb } from '../store/per-db';
import {
  bootstrapRecall,
  DEFAULT_RESAMPLES,
  labelDifference,
  mcnemarExact,
  pairedBootstrapRecall,
  type DifferenceLabel,
} from '../../model-runtime/src/index';
import { pairedRanks, rankedRanks } from './items';

export interface BootstrapSettings {
  resamples: number;
  seed: number;
}

export const DEFAULT_BOOTSTRAP: BootstrapSettings = { resamples: DEFAULT_RESAMPLES, seed: 0 };

type Kind = EvalItemKind;

/**
 * Which stored ranks each metric is a recall of: IR (caption queries, their image's rank), TR (image queries,
 * their best caption's rank), NLVR2 accuracy (rank 0 = right, 1 = wrong; unlabelled examples have none).
 * The dual encoder's figures beside an ITM re-rank (itc_…) have no stored ranks, so no interval.
 */
const METRICS: { kind: Kind; ks: number[]; names: string[] }[] = [
  { kind: 'image', ks: [1, 5, 10], names: ['tr_r1', 'tr_r5', 'tr_r10'] },
  { kind: 'caption', ks: [1, 5, 10], names: ['ir_r1', 'ir_r5', 'ir_r10'] },
  { kind: 'nlvr2', ks: [1], names: ['accuracy'] },
];

export type Ci95 = Record<string, [number, number]>;

const round = (v: number) => Math.round(v * 1e4) / 1e4;

function ranksOf(db: Db, runId: number, kind: Kind): Int32Array {
  return Int32Array.from(rankedRanks(db, runId, kind));
}

// runs and their items never change once stored, so an interval is computed once per run and setting
const cache = new WeakMap<Db, Map<string, Ci95>>();

/** The 95% interval of each of the run's metrics that stored ranks back, in the metric's unit (percent). */
export function runIntervals(db: Db, run: EvalRun, s: BootstrapSettings = DEFAULT_BOOTSTRAP): Ci95 {
  const key = `${run.id}:${run.createdAt}:${s.resamples}:${s.seed}`;
  const memo = perDb(cache, db);
  const hit = memo.get(key);
  if (hit) return hit;
  const ci95: Ci95 = {};
  for (const m of METRICS) {
    if (!m.names.some((name) => name in run.metrics)) continue;
    const ranks = ranksOf(db, run.id, m.kind);
    if (ranks.length === 0) continue;
    bootstrapRecall(ranks, m.ks, s).forEach((iv, j) => (ci95[m.names[j]] = [round(iv.lo), round(iv.hi)]));
  }
  if (memo.size > 500) memo.clear();
  memo.set(key, ci95);
  return ci95;
}

export function withIntervals(db: Db, run: EvalRun, s: BootstrapSettings = DEFAULT_BOOTSTRAP): EvalRun {
  return { ...run, ci95: runIntervals(db, run, s), bootstrap: s };
}

export interface MetricDifference {
  name: string;
  /** Queries ranked in both runs: the paired statistics are over these. */
  queries: number;
  /** b − a over those queries, in percentage points, with its paired-bootstrap 95% interval. */
  delta: number;
  ci95: [number, number];
  label: DifferenceLabel;
  /** NLVR2: the exact McNemar test on the examples right in one run only. */
  mcnemar?: { rightOnlyInA: number; rightOnlyInB: number; p: number };
}

function pairedRankArrays(db: Db, a: number, b: number, kind: Kind): [Int32Array, Int32Array] {
  const rows = pairedRanks(db, a, b, kind);
  return [Int32Array.from(rows, (r) => r[0]), Int32Array.from(rows, (r) => r[1])];
}

/**
 * Run b against run a, metric by metric, over the queries both ranked. A difference is "better" or "worse"
 * when its paired 95% interval excludes 0; for NLVR2 accuracy the exact McNemar test decides instead
 * (p < 0.05), the interval is shown beside it.
 */
export function compareIntervals(
  db: Db,
  a: EvalRun,
  b: EvalRun,
  s: BootstrapSettings = DEFAULT_BOOTSTRAP,
): MetricDifference[] {
  const out: MetricDifference[] = [];
  for (const m of METRICS) {
    if (!m.names.some((name) => name in a.metrics && name in b.metrics)) continue;
    const [ra, rb] = pairedRankArrays(db, a.id, b.id, m.kind);
    if (ra.length === 0) continue;
    pairedBootstrapRecall(ra, rb, m.ks, s).forEach((iv, j) => {
      const d: MetricDifference = {
        name: m.names[j],
        queries: ra.length,
        delta: round(iv.estimate),
        ci95: [round(iv.lo), round(iv.hi)],
        label: labelDifference(iv.lo, iv.hi),
      };
      if (m.kind === 'nlvr2') {
        let onlyA = 0;
        let onlyB = 0;
        for (let q = 0; q < ra.length; q++) {
          if (ra[q] === 0 && rb[q] !== 0) onlyA++;
          else if (ra[q] !== 0 && rb[q] === 0) onlyB++;
        }
        const p = mcnemarExact(onlyA, onlyB);
        d.mcnemar = { rightOnlyInA: onlyA, rightOnlyInB: onlyB, p };
        d.label = p >= 0.05 ? 'no detectable difference at 95%' : onlyB > onlyA ? 'better' : 'worse';
      }
      out.push(d);
    });
  }
  return out;
}
