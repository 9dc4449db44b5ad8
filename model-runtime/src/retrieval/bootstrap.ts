// Uncertainty of recall-style metrics over queries: each query has a 0-based rank of its ground truth, a
// metric is the percentage of queries ranked below k (R@k; NLVR2 accuracy is the same with rank 0 = right,
// 1 = wrong and k = 1). Percentile bootstrap over queries for one run, paired bootstrap over the same queries
// for two runs, the exact McNemar test for paired right/wrong outcomes.
// Why a bucket per query: a resample only needs to count queries per rank bucket (rank < k1, k1 ≤ rank < k2,
// …), so every k of a run costs one pass of index draws per resample, on typed arrays with a seeded PRNG.

export interface BootstrapOptions {
  /** Number of resamples (default 1,000). */
  resamples?: number;
  /** PRNG seed: the same seed gives the same interval (default 0). */
  seed?: number;
  /** Two-sided coverage (default 0.95). */
  level?: number;
}

export const DEFAULT_RESAMPLES = 1000;

export interface Interval {
  /** The metric on the queries as given, in percent. */
  estimate: number;
  lo: number;
  hi: number;
}

/** mulberry32: a small, fast 32-bit PRNG; plenty for resampling indices, and reproducible from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0; // uniform on [0, 2^32)
  };
}

/**
 * B resamples of n = codes.length queries with replacement; after each, `visit` gets how many drawn queries
 * had each code. The PRNG (mulberry32, as seededRandom) is inlined: this loop is the whole cost.
 */
function resample(
  codes: Uint8Array,
  cells: number,
  B: number,
  seed: number,
  visit: (counts: Int32Array, b: number) => void,
): void {
  const n = codes.length;
  const counts = new Int32Array(cells);
  let a = seed >>> 0;
  for (let b = 0; b < B; b++) {
    counts.fill(0);
    for (let d = 0; d < n; d++) {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      // ((t ^ t >>> 14) >>> 0) / 2^32 is uniform on [0, 1); times n, floored: an index
      counts[codes[Math.floor((((t ^ (t >>> 14)) >>> 0) * n) / 4294967296)]]++;
    }
    visit(counts, b);
  }
}

/** Per query: how many of the (ascending) ks its rank misses, 0 … ks.length. A rank < 0 counts as a miss. */
function buckets(ranks: ArrayLike<number>, ks: readonly number[]): Uint8Array {
  const out = new Uint8Array(ranks.length);
  for (let q = 0; q < ranks.length; q++) {
    const r = ranks[q];
    let b = 0;
    while (b < ks.length && (r < 0 || r >= ks[b])) b++;
    out[q] = ks.length - b; // ks.length: a hit at every k; 0: a hit at none
  }
  return out;
}

/** The q-quantile of sorted values, interpolating linearly between order statistics (R's type 7). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const i = Math.floor(h);
  return i + 1 < n ? sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]) : sorted[n - 1];
}

function sortedAscending(ks: readonly number[]): void {
  for (let j = 1; j < ks.length; j++)
    if (!(ks[j] > ks[j - 1])) throw new Error(`ks must be ascending, got ${ks.join(', ')}`);
}

/**
 * R@k for each k (in percent) with its percentile-bootstrap interval over queries. Resampling n queries with
 * replacement and counting hits per bucket is the whole cost: resamples × n draws. Where every query hits, or
 * none does, every resample agrees and the percentile interval collapses to a point that claims certainty; there
 * the exact Clopper–Pearson interval is given instead (`exactEdgeInterval`).
 */
export function bootstrapRecall(ranks: ArrayLike<number>, ks: readonly number[], o: BootstrapOptions = {}): Interval[] {
  sortedAscending(ks);
  const n = ranks.length;
  const B = o.resamples ?? DEFAULT_RESAMPLES;
  const level = o.level ?? 0.95;
  const K = ks.length;
  const bucket = buckets(ranks, ks);
  const hits = new Int32Array(K);
  for (let q = 0; q < n; q++) for (let j = K - bucket[q]; j < K; j++) hits[j]++;
  if (n === 0) return ks.map(() => ({ estimate: NaN, lo: NaN, hi: NaN }));
  const stats = Array.from({ length: K }, () => new Float64Array(B));
  resample(bucket, K + 1, B, o.seed ?? 0, (counts, b) => {
    // a query with bucket c is a hit at ks[K − c] and every larger k
    let cum = 0;
    for (let c = K; c >= 1; c--) {
      cum += counts[c];
      stats[K - c][b] = (100 * cum) / n;
    }
  });
  return ks.map((_, j) => {
    if (hits[j] === 0 || hits[j] === n) return exactEdgeInterval(n, hits[j], level);
    const s = stats[j].sort();
    return { estimate: (100 * hits[j]) / n, lo: quantile(s, (1 - level) / 2), hi: quantile(s, 1 - (1 - level) / 2) };
  });
}

/**
 * Clopper–Pearson for 0 or n hits of n, in percent, where the beta quantiles have closed forms: 0 of n gives
 * [0, 1 − (α/2)^(1/n)], n of n gives [(α/2)^(1/n), 1] (α = 1 − level).
 */
export function exactEdgeInterval(n: number, hits: 0 | number, level = 0.95): Interval {
  if (hits !== 0 && hits !== n) throw new Error(`the closed form holds for 0 or ${n} hits, not ${hits}`);
  const edge = 100 * Math.pow((1 - level) / 2, 1 / n);
  return hits === 0 ? { estimate: 0, lo: 0, hi: 100 - edge } : { estimate: 100, lo: edge, hi: 100 };
}

/**
 * The difference R@k(b) − R@k(a) (in percentage points) over the same queries, with its paired-bootstrap
 * interval: each resample draws queries, and a drawn query counts in both runs, so what the two runs share
 * (easy and hard queries) cancels out.
 */
export function pairedBootstrapRecall(
  ranksA: ArrayLike<number>,
  ranksB: ArrayLike<number>,
  ks: readonly number[],
  o: BootstrapOptions = {},
): Interval[] {
  sortedAscending(ks);
  const n = ranksA.length;
  if (ranksB.length !== n) throw new Error(`paired runs need the same queries: ${n} vs ${ranksB.length}`);
  const B = o.resamples ?? DEFAULT_RESAMPLES;
  const level = o.level ?? 0.95;
  const K = ks.length;
  const W = K + 1;
  const ba = buckets(ranksA, ks);
  const bb = buckets(ranksB, ks);
  const cell = new Uint8Array(n);
  for (let q = 0; q < n; q++) cell[q] = ba[q] * W + bb[q];
  if (n === 0) return ks.map(() => ({ estimate: NaN, lo: NaN, hi: NaN }));
  // per k: +1 for each cell where b hits and a misses, −1 the other way round
  const sign = Array.from({ length: K }, (_, j) => {
    const s = new Int8Array(W * W);
    for (let x = 0; x < W; x++) for (let y = 0; y < W; y++) s[x * W + y] = Number(y >= K - j) - Number(x >= K - j);
    return s;
  });
  const diff = (counts: Int32Array, j: number) => {
    let d = 0;
    for (let c = 0; c < W * W; c++) d += sign[j][c] * counts[c];
    return (100 * d) / n;
  };
  const all = new Int32Array(W * W);
  for (let q = 0; q < n; q++) all[cell[q]]++;
  const stats = Array.from({ length: K }, () => new Float64Array(B));
  resample(cell, W * W, B, o.seed ?? 0, (counts, b) => {
    for (let j = 0; j < K; j++) stats[j][b] = diff(counts, j);
  });
  return ks.map((_, j) => {
    const s = stats[j].sort();
    return { estimate: diff(all, j), lo: quantile(s, (1 - level) / 2), hi: quantile(s, 1 - (1 - level) / 2) };
  });
}

/**
 * Exact McNemar test: of the n = b + c discordant pairs (right in one run only), b went one way and c the
 * other; under no difference each is a fair coin. Two-sided p = min(1, 2 · P(X ≤ min(b, c))), X ~ Bin(n, ½),
 * summed in log space so that thousands of discordant pairs do not underflow.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const m = Math.min(b, c);
  let logC = 0; // log C(n, 0)
  const logs: number[] = [];
  for (let i = 0; i <= m; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    logs.push(logC - n * Math.LN2);
  }
  const top = Math.max(...logs);
  const tail = Math.exp(top) * logs.reduce((s, l) => s + Math.exp(l - top), 0);
  return Math.min(1, 2 * tail);
}

export type DifferenceLabel = 'better' | 'worse' | 'no detectable difference at 95%';

/** A difference in plain words: better or worse when the 95% interval excludes 0. */
export function labelDifference(lo: number, hi: number): DifferenceLabel {
  if (lo > 0) return 'better';
  if (hi < 0) return 'worse';
  return 'no detectable difference at 95%';
}

/**
 * The exact bootstrap distribution of a hit count: resampling n queries of which `hits` are hits, with
 * replacement, draws Binomial(n, hits / n) hits. So a group's bootstrap needs no index draws at all: one
 * table of the binomial CDF per group, then one uniform and a binary search per resample.
 */
export function binomialSampler(n: number, hits: number): (u: number) => number {
  if (hits <= 0 || hits >= n) return () => Math.max(0, Math.min(hits, n));
  const p = hits / n;
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const pmf = new Float64Array(n + 1);
  pmf[mode] = 1; // relative to the mode; normalized below (terms far in the tails underflow to 0, harmlessly)
  const odds = p / (1 - p);
  for (let k = mode; k < n; k++) pmf[k + 1] = (pmf[k] * (n - k) * odds) / (k + 1);
  for (let k = mode; k > 0; k--) pmf[k - 1] = (pmf[k] * k) / ((n - k + 1) * odds);
  const cdf = new Float64Array(n + 1);
  let sum = 0;
  for (let k = 0; k <= n; k++) cdf[k] = sum += pmf[k];
  for (let k = 0; k <= n; k++) cdf[k] /= sum;
  return (u: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

export interface GroupGap {
  /** The group's hit rate in percent, with its bootstrap interval. */
  metric: Interval;
  /** The group's rate minus the whole set's, in percentage points, with its bootstrap interval. */
  gap: Interval;
}

/**
 * A group of queries (a slice) against the whole set: its rate and its gap to the whole rate, each with a
 * bootstrap interval. Stratified: the group and the rest are resampled separately (their sizes fixed), each
 * hit count drawn from its exact bootstrap distribution (binomialSampler).
 */
export function groupGap(
  group: { size: number; hits: number },
  whole: { size: number; hits: number },
  o: BootstrapOptions = {},
): GroupGap {
  const B = o.resamples ?? DEFAULT_RESAMPLES;
  const level = o.level ?? 0.95;
  const ns = group.size;
  const nr = whole.size - ns;
  const sampleGroup = binomialSampler(ns, group.hits);
  const sampleRest = binomialSampler(nr, whole.hits - group.hits);
  const rand = seededRandom(o.seed ?? 0);
  const rates = new Float64Array(B);
  const gaps = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const hs = sampleGroup(rand() / 4294967296);
    const hr = nr > 0 ? sampleRest(rand() / 4294967296) : 0;
    rates[b] = (100 * hs) / ns;
    gaps[b] = rates[b] - (100 * (hs + hr)) / whole.size;
  }
  rates.sort();
  gaps.sort();
  const lo = (1 - level) / 2;
  const rate = (100 * group.hits) / ns;
  return {
    metric: { estimate: rate, lo: quantile(rates, lo), hi: quantile(rates, 1 - lo) },
    gap: { estimate: rate - (100 * whole.hits) / whole.size, lo: quantile(gaps, lo), hi: quantile(gaps, 1 - lo) },
  };
}

/** The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.928510446969, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}
