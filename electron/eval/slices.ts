// Failure slices: groups of a run's queries that share something a person can name (a word or a pair of
// words of the caption or NLVR2 statement, the caption's length, the split, a cluster of the model's embeddings) and whose metric falls furthest
// below the whole run's. Each group holds at least `minSupport` queries and comes with its size, its metric
// and its gap to the whole, each with a 95% bootstrap interval, and its missed queries to open.
// Looking at hundreds of groups and keeping the worst picks some by chance, and favours small groups whose
// gap is large but noisy (the winner's curse). So groups are ranked by the upper end of the gap's family-wise
// 95% bound (normal approximation, Bonferroni over every group tested): a large group that is surely worse
// comes before a small one that may be worse, and a bound below 0 means the shortfall holds even allowing
// for every group looked at. The per-group intervals shown are the plain (per-group) 95% ones.
import type { ChangedSlices, EvalItemKind, FailureSlices } from '../api/schemas';
import type { Db } from '../store/db';
import { groupGap, labelDifference, normalQuantile, pairedBootstrapRecall } from '../../model-runtime/src/index';
import type { Clusters } from './clusters';
import type { ImageShapes } from './image-shapes';
import { checkComparable } from './compare';
import { rankedQueries, type RankedQuery } from './items';
import { getEvalRun } from './repository';
import { DEFAULT_BOOTSTRAP, type BootstrapSettings } from './stats';

type Kind = EvalItemKind;
type Feature = FailureSlices['slices'][number]['feature'];

type Query = RankedQuery;

const LENGTHS: [number, string][] = [
  [5, '1–5 words'],
  [8, '6–8 words'],
  [11, '9–11 words'],
  [15, '12–15 words'],
  [Infinity, '16+ words'],
];

/** Kinds of word a caption or statement can use, each a group of its own beside the single words. */
export const CATEGORIES: Record<string, string[]> = {
  count: 'one two three four five six seven eight nine ten several many few pair couple both'.split(' '),
  colour: 'red blue green yellow black white brown orange pink purple grey gray violet'.split(' '),
  spatial: 'left right above below under behind beside next near top bottom front between middle centre center'.split(
    ' ',
  ),
  negation: "no not none neither nor without nobody nothing isn't aren't doesn't don't".split(' '),
};
const CATEGORY_OF = new Map(Object.entries(CATEGORIES).flatMap(([c, ws]) => ws.map((w) => [w, c] as const)));
const CATEGORY_TEXT: Record<string, string> = {
  count: 'a count',
  colour: 'a colour',
  spatial: 'a spatial word',
  negation: 'a negation',
};

export const words = (text: string): string[] => text.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];

/** What a slice list may group by beyond the queries' own text: the model's embedding clusters, image shapes. */
export interface SliceContext {
  clusters?: Clusters | null;
  shapes?: ImageShapes | null;
}

/** The named groups a query belongs to, as "feature\tvalue". */
function featuresOf(q: Query, kind: Kind, ctx: SliceContext = {}): Set<string> {
  const out = new Set<string>();
  if (q.split) out.add(`split\t${q.split}`);
  const shape = q.imageFile ? ctx.shapes?.get(q.imageFile) : undefined;
  if (shape) {
    out.add(`aspect\t${shape.aspect}`);
    out.add(`size\t${shape.size}`);
  }
  const cluster = ctx.clusters?.get(q.key);
  if (cluster) out.add(`cluster\t${cluster}`);
  const text = kind === 'image' ? (q.captions ?? '') : q.text;
  if (kind === 'image') {
    for (const w of words(text)) out.add(`word\t${w}`);
    return out;
  }
  const ws = words(text);
  for (const w of ws) {
    out.add(`word\t${w}`);
    const c = CATEGORY_OF.get(w);
    if (c) out.add(`category\t${c}`);
  }
  for (let i = 0; i + 1 < ws.length; i++) out.add(`bigram\t${ws[i]} ${ws[i + 1]}`);
  out.add(`length\t${LENGTHS.find(([max]) => ws.length <= max)![1]}`);
  return out;
}

function describe(feature: Feature, value: string, kind: Kind): string {
  const what = kind === 'caption' ? 'caption' : kind === 'image' ? "image's captions" : 'statement';
  if (feature === 'split') return `split ${value}`;
  if (feature === 'length') return `${what} of ${value}`;
  if (feature === 'aspect' || feature === 'size')
    return kind === 'image' ? `${value} image` : `caption of a ${value} image`;
  if (feature === 'cluster') return `${kind === 'image' ? 'image' : 'caption'} in embedding cluster ${value}`;
  if (feature === 'category') return `${what} with ${CATEGORY_TEXT[value] ?? value}`;
  return `${what} ${kind === 'image' ? 'mention' : 'has'} “${value}”`;
}

/** Which queries and metric a slice list is over: a retrieval run's captions (IR) or images (TR) at R@at; an
 * NLVR2 run's examples by accuracy. */
function measure(task: string, q: { kind?: Kind; at: number } & Partial<BootstrapSettings>) {
  const kind: Kind = task === 'nlvr2' ? 'nlvr2' : q.kind === 'image' ? 'image' : 'caption';
  const at = kind === 'nlvr2' ? 1 : q.at;
  const metric = kind === 'nlvr2' ? 'accuracy' : `${kind === 'caption' ? 'ir' : 'tr'}_r${at}`;
  const bootstrap = { resamples: q.resamples ?? DEFAULT_BOOTSTRAP.resamples, seed: q.seed ?? DEFAULT_BOOTSTRAP.seed };
  return { kind, at, metric, bootstrap };
}

/** Every candidate group ("feature\tvalue") with its members (indices into qs). */
export function groupQueries(qs: Query[], kind: Kind, ctx: SliceContext = {}): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  qs.forEach((x, i) => {
    for (const f of featuresOf(x, kind, ctx)) {
      let g = groups.get(f);
      if (!g) groups.set(f, (g = []));
      g.push(i);
    }
  });
  return groups;
}

/** What both slice finders are asked: which queries, the cut-off rank, the smallest group, how many groups. */
type SliceQuery = { kind?: Kind; at: number; minSupport: number; limit: number } & SliceContext &
  Partial<BootstrapSettings>;

export function findFailureSlices(db: Db, q: { runId: number } & SliceQuery): FailureSlices {
  const run = getEvalRun(db, q.runId);
  // a retrieval run's queries are captions (IR) or images (TR); an NLVR2 run's its examples
  const { kind, at, metric, bootstrap } = measure(run.task, q);
  const qs = rankedQueries(db, run.id, run.datasetId, kind);
  const n = qs.length;
  const hit = qs.map((x) => x.rank < at);
  const hits = hit.filter(Boolean).length;

  const groups = groupQueries(qs, kind, q);
  const pWhole = n ? hits / n : 0;
  const tested = [...groups.values()].filter((g) => g.length >= q.minSupport && n - g.length >= q.minSupport);
  const z = normalQuantile(1 - 0.025 / Math.max(1, tested.length));
  const candidates: { key: string; members: number[]; hits: number; bound: number }[] = [];
  for (const [key, members] of groups) {
    const ns = members.length;
    if (ns < q.minSupport || n - ns < q.minSupport) continue; // too few, or (nearly) everything
    const hs = members.reduce((s, i) => s + Number(hit[i]), 0);
    const ps = hs / ns;
    const pr = (hits - hs) / (n - ns);
    if (ps >= pWhole) continue;
    // gap = (n_rest / n)·(group − rest); its standard error from the two proportions
    const se = ((n - ns) / n) * Math.sqrt((ps * (1 - ps)) / ns + (pr * (1 - pr)) / (n - ns));
    candidates.push({ key, members, hits: hs, bound: 100 * (ps - pWhole + z * se) });
  }
  candidates.sort((a, b) => a.bound - b.bound || a.key.localeCompare(b.key));

  const whole = groupGapWhole(n, hits, bootstrap);
  const slices = candidates.slice(0, q.limit).map((c) => {
    const [feature, value] = c.key.split('\t') as [Feature, string];
    const g = groupGap({ size: c.members.length, hits: c.hits }, { size: n, hits }, bootstrap);
    const missed = c.members
      .filter((i) => !hit[i])
      .sort((a, b) => qs[b].rank - qs[a].rank)
      .slice(0, 100)
      .map((i) => ({ key: qs[i].key, text: qs[i].text, rank: qs[i].rank }));
    return {
      feature,
      value,
      label: describe(feature, value, kind),
      size: c.members.length,
      missedCount: c.members.length - c.hits,
      metric: round(g.metric.estimate),
      ci95: [round(g.metric.lo), round(g.metric.hi)] as [number, number],
      gap: round(g.gap.estimate),
      gapCi95: [round(g.gap.lo), round(g.gap.hi)] as [number, number],
      gapBound: round(c.bound),
      missed,
    };
  });
  return {
    runId: run.id,
    kind,
    metric,
    at,
    minSupport: q.minSupport,
    bootstrap,
    whole,
    candidates: groups.size,
    tested: tested.length,
    slices,
  };
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

/** The whole run's metric and interval (the same stratified sampler with the rest empty). */
function groupGapWhole(n: number, hits: number, s: BootstrapSettings): FailureSlices['whole'] {
  if (n === 0) return { size: 0, metric: 0, ci95: [0, 0] };
  const g = groupGap({ size: n, hits }, { size: n, hits }, s);
  return { size: n, metric: round(g.metric.estimate), ci95: [round(g.metric.lo), round(g.metric.hi)] };
}

type ChangedSlice = ChangedSlices['fixed'][number];

/**
 * Two runs of the same split (b against a, e.g. a fine-tune against its parent): the named groups of the
 * queries both ranked whose metric changed most, what b fixed (`fixed`: most surely improved first) and what it
 * broke (`broke`: most surely worsened first). The groups are the failure slices' (featuresOf). The ranking key is the end of the paired difference's family-wise 95% bound nearest 0 (normal
 * approximation, Bonferroni over every group tested), so a large group that surely moved comes before a small
 * one that may have; each listed group's Δ carries its plain paired-bootstrap 95% interval and label.
 */
export function findChangedSlices(db: Db, q: { a: number; b: number } & SliceQuery): ChangedSlices {
  const runA = getEvalRun(db, q.a);
  const runB = getEvalRun(db, q.b);
  checkComparable(runA, runB);
  const { kind, at, metric, bootstrap } = measure(runA.task, q);
  const rankA = new Map(rankedQueries(db, runA.id, runA.datasetId, kind).map((x) => [x.key, x.rank]));
  const qs = rankedQueries(db, runB.id, runB.datasetId, kind).filter((x) => rankA.has(x.key));
  const n = qs.length;
  const ra = Int32Array.from(qs, (x) => rankA.get(x.key)!);
  const rb = Int32Array.from(qs, (x) => x.rank);

  const groups = groupQueries(qs, kind, q);
  const scored: { key: string; members: number[]; fixed: number; broken: number; delta: number; se: number }[] = [];
  for (const [key, members] of groups) {
    const ns = members.length;
    if (ns < q.minSupport || n - ns < q.minSupport) continue;
    let fixed = 0;
    let broken = 0;
    for (const i of members) {
      const hitA = ra[i] < at;
      const hitB = rb[i] < at;
      if (hitB && !hitA) fixed++;
      else if (hitA && !hitB) broken++;
    }
    // the paired difference is the mean of d ∈ {−1, 0, 1} over the group's queries
    const mean = (fixed - broken) / ns;
    const variance = Math.max(0, (fixed + broken) / ns - mean * mean);
    scored.push({ key, members, fixed, broken, delta: 100 * mean, se: 100 * Math.sqrt(variance / ns) });
  }
  const z = normalQuantile(1 - 0.025 / Math.max(1, scored.length));
  const describeGroup = (c: (typeof scored)[number]): ChangedSlice => {
    const [feature, value] = c.key.split('\t') as [Feature, string];
    const ga = Int32Array.from(c.members, (i) => ra[i]);
    const gb = Int32Array.from(c.members, (i) => rb[i]);
    const [iv] = pairedBootstrapRecall(ga, gb, [at], bootstrap);
    const hitsA = c.members.filter((i) => ra[i] < at).length;
    const hitsB = c.members.filter((i) => rb[i] < at).length;
    const moved = (which: 'fixed' | 'broken') =>
      c.members
        .filter((i) => (which === 'fixed' ? rb[i] < at && ra[i] >= at : ra[i] < at && rb[i] >= at))
        .slice(0, 50)
        .map((i) => ({ key: qs[i].key, text: qs[i].text, rankA: ra[i], rankB: rb[i] }));
    return {
      feature,
      value,
      label: describe(feature, value, kind),
      size: c.members.length,
      a: round((100 * hitsA) / c.members.length),
      b: round((100 * hitsB) / c.members.length),
      delta: round(iv.estimate),
      ci95: [round(iv.lo), round(iv.hi)],
      significance: labelDifference(iv.lo, iv.hi),
      fixedCount: c.fixed,
      brokenCount: c.broken,
      deltaBound: round(c.delta > 0 ? c.delta - z * c.se : c.delta + z * c.se),
      fixedItems: moved('fixed'),
      brokenItems: moved('broken'),
    };
  };
  const up = scored
    .filter((c) => c.delta > 0)
    .sort((x, y) => y.delta - z * y.se - (x.delta - z * x.se) || x.key.localeCompare(y.key));
  const down = scored
    .filter((c) => c.delta < 0)
    .sort((x, y) => x.delta + z * x.se - (y.delta + z * y.se) || x.key.localeCompare(y.key));
  const [whole] = n ? pairedBootstrapRecall(ra, rb, [at], bootstrap) : [{ estimate: 0, lo: 0, hi: 0 }];
  return {
    a: runA.id,
    b: runB.id,
    kind,
    metric,
    at,
    minSupport: q.minSupport,
    bootstrap,
    queries: n,
    whole: { delta: round(whole.estimate), ci95: [round(whole.lo), round(whole.hi)] },
    tested: scored.length,
    fixed: up.slice(0, q.limit).map(describeGroup),
    broke: down.slice(0, q.limit).map(describeGroup),
  };
}
