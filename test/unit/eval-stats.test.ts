// The statistics behind "how far to trust a run": bootstrap intervals of R@k and accuracy over queries, the
// paired interval of a difference between two runs, the exact McNemar test, and the words for a difference.
import { describe, expect, it } from 'vitest';
import {
  binomialSampler,
  bootstrapRecall,
  exactEdgeInterval,
  groupGap,
  normalQuantile,
  labelDifference,
  mcnemarExact,
  pairedBootstrapRecall,
  seededRandom,
} from '../../model-runtime/src/retrieval/bootstrap';

/** n ranks whose R@1, R@5, R@10 are about p1, p5, p10 (seeded). */
function syntheticRanks(n: number, seed: number, [p1, p5, p10]: [number, number, number]): Int32Array {
  const rand = seededRandom(seed);
  return Int32Array.from({ length: n }, () => {
    const u = rand() / 2 ** 32;
    return u < p1 ? 0 : u < p5 ? 1 + (rand() % 4) : u < p10 ? 5 + (rand() % 5) : 10 + (rand() % 990);
  });
}

/** Width of the normal-approximation binomial interval, in percentage points. */
const binomialWidth = (p: number, n: number) => 100 * 2 * 1.96 * Math.sqrt((p * (1 - p)) / n);

describe('bootstrap interval of R@k', () => {
  it('is as wide as the binomial formula says on 25,000 caption queries (within 25%)', () => {
    const ranks = syntheticRanks(25_000, 1, [0.2, 0.5, 0.65]);
    const ivs = bootstrapRecall(ranks, [1, 5, 10]);
    for (const iv of ivs) {
      const width = iv.hi - iv.lo;
      const expected = binomialWidth(iv.estimate / 100, ranks.length);
      expect(Math.abs(width - expected) / expected).toBeLessThan(0.25);
      expect(iv.lo).toBeLessThan(iv.estimate);
      expect(iv.hi).toBeGreaterThan(iv.estimate);
    }
  });

  it('holds the plain recall as its estimate, and widens as queries get fewer', () => {
    const ranks = syntheticRanks(5000, 2, [0.1, 0.3, 0.4]);
    const [r1, r5, r10] = bootstrapRecall(ranks, [1, 5, 10]);
    const recall = (k: number) => (100 * ranks.filter((r) => r < k).length) / ranks.length;
    expect([r1.estimate, r5.estimate, r10.estimate]).toEqual([recall(1), recall(5), recall(10)]);
    const [small] = bootstrapRecall(ranks.subarray(0, 500), [1]);
    expect(small.hi - small.lo).toBeGreaterThan(2.5 * (r1.hi - r1.lo));
  });

  it('is reproducible from its seed, and the number of resamples is the caller’s', () => {
    const ranks = syntheticRanks(2000, 3, [0.3, 0.6, 0.7]);
    expect(bootstrapRecall(ranks, [1, 5], { seed: 7 })).toEqual(bootstrapRecall(ranks, [1, 5], { seed: 7 }));
    expect(bootstrapRecall(ranks, [1], { seed: 7 })).not.toEqual(bootstrapRecall(ranks, [1], { seed: 8 }));
    const many = bootstrapRecall(ranks, [1], { resamples: 4000 })[0];
    expect(Math.abs(many.hi - many.lo - binomialWidth(many.estimate / 100, 2000))).toBeLessThan(0.5);
  });

  it('at 0% or 100% gives the exact Clopper–Pearson interval, not a point', () => {
    // 20 of 20 right: the exact 95% lower bound is 0.025^(1/20) = 83.16%; the bootstrap would say [100, 100]
    const [all, none] = bootstrapRecall(
      Int32Array.from({ length: 20 }, () => 0),
      [1, 5],
    )
      .slice(0, 1)
      .concat(
        bootstrapRecall(
          Int32Array.from({ length: 20 }, () => 9),
          [1],
        ),
      );
    expect(all.estimate).toBe(100);
    expect(all.lo).toBeCloseTo(83.16, 2);
    expect(all.hi).toBe(100);
    expect(none).toEqual({ estimate: 0, lo: 0, hi: expect.closeTo(16.84, 2) as number });
    expect(() => exactEdgeInterval(20, 3)).toThrow(/0 or 20 hits/);
  });

  it('NLVR2 accuracy is the same statistic: rank 0 right, 1 wrong, k = 1', () => {
    const right = Int32Array.from({ length: 6982 }, (_, i) => (i % 10 < 8 ? 0 : 1)); // 80% right
    const [acc] = bootstrapRecall(right, [1]);
    expect(acc.estimate).toBeCloseTo(80, 1);
    expect(Math.abs(acc.hi - acc.lo - binomialWidth(0.8, 6982)) / binomialWidth(0.8, 6982)).toBeLessThan(0.25);
  });
});

describe('paired bootstrap of a difference', () => {
  /** n queries; run a hits the first `hitsA`; run b differs on `better` misses it hits and `worse` hits it misses. */
  function pair(n: number, hitsA: number, better: number, worse: number): [Int32Array, Int32Array] {
    const a = Int32Array.from({ length: n }, (_, q) => (q < hitsA ? 0 : 50));
    const b = Int32Array.from(a);
    for (let q = 0; q < worse; q++) b[q] = 50; // hits of a that b misses
    for (let q = hitsA; q < hitsA + better; q++) b[q] = 0; // misses of a that b hits
    return [a, b];
  }

  it('of a run against itself is exactly 0 with no detectable difference', () => {
    const ranks = syntheticRanks(3000, 6, [0.2, 0.5, 0.6]);
    for (const d of pairedBootstrapRecall(ranks, ranks, [1, 5, 10])) {
      expect([d.estimate, d.lo, d.hi]).toEqual([0, 0, 0]);
      expect(labelDifference(d.lo, d.hi)).toBe('no detectable difference at 95%');
    }
  });

  it('b fixes 100 of 1,000 queries and breaks none: +10 points, interval as the discordant share says', () => {
    const [a, b] = pair(1000, 400, 100, 0);
    const [d] = pairedBootstrapRecall(a, b, [1]);
    expect(d.estimate).toBeCloseTo(10, 10);
    // the difference is the mean of D ∈ {0, +1} with P(+1) = 0.1: half-width 1.96·√(0.1·0.9/1000)
    const expected = binomialWidth(0.1, 1000);
    expect(Math.abs(d.hi - d.lo - expected) / expected).toBeLessThan(0.25);
    expect(labelDifference(d.lo, d.hi)).toBe('better');
    const [back] = pairedBootstrapRecall(b, a, [1]);
    expect(back.estimate).toBeCloseTo(-10, 10);
    expect(labelDifference(back.lo, back.hi)).toBe('worse');
  });

  it('50 fixed and 50 broken: no difference, and narrower than two unpaired intervals would make it', () => {
    const [a, b] = pair(1000, 400, 50, 50);
    const [d] = pairedBootstrapRecall(a, b, [1]);
    expect(d.estimate).toBe(0);
    expect(labelDifference(d.lo, d.hi)).toBe('no detectable difference at 95%');
    // D ∈ {−1, 0, +1}, P(±1) = 0.05 each: sd √(0.1/1000)
    const expected = 100 * 2 * 1.96 * Math.sqrt(0.1 / 1000);
    expect(Math.abs(d.hi - d.lo - expected) / expected).toBeLessThan(0.25);
    const unpaired = Math.SQRT2 * binomialWidth(0.4, 1000);
    expect(d.hi - d.lo).toBeLessThan(unpaired / 2);
  });

  it('refuses runs of different queries', () => {
    expect(() => pairedBootstrapRecall(new Int32Array(3), new Int32Array(4), [1])).toThrow(/same queries/);
  });
});

describe('a group of queries against the whole (failure slices)', () => {
  it('draws hit counts from the exact binomial: mean n·p, sd √(n·p·(1−p))', () => {
    const draw = binomialSampler(1000, 300);
    const rand = seededRandom(9);
    const xs = Array.from({ length: 20_000 }, () => draw(rand() / 2 ** 32));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
    expect(mean).toBeCloseTo(300, 0);
    expect(Math.abs(sd - Math.sqrt(1000 * 0.3 * 0.7))).toBeLessThan(0.5);
    expect(binomialSampler(50, 0)(0.7)).toBe(0);
    expect(binomialSampler(50, 50)(0.2)).toBe(50);
  });

  it('400 queries at 10% in 20,000 at 50%: metric and gap with the widths the binomial formula gives', () => {
    const g = groupGap({ size: 400, hits: 40 }, { size: 20_000, hits: 10_000 });
    expect(g.metric.estimate).toBe(10);
    expect(g.gap.estimate).toBe(-40);
    const width = binomialWidth(0.1, 400);
    expect(Math.abs(g.metric.hi - g.metric.lo - width) / width).toBeLessThan(0.25);
    // gap = (n_rest / n)·(group − rest): mostly the group's own uncertainty here
    const rest = (100 * (10_000 - 40)) / 19_600;
    const gapWidth = (19_600 / 20_000) * Math.hypot(width, binomialWidth(rest / 100, 19_600));
    expect(Math.abs(g.gap.hi - g.gap.lo - gapWidth) / gapWidth).toBeLessThan(0.25);
    expect(g.gap.hi).toBeLessThan(0);
  });
});

describe('normal quantile (the family-wise bound of the slice ranking)', () => {
  it('matches the tables: 1.96 at 97.5%, 4.06 for 5% over 1,000 groups, symmetric', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(1 - 0.025 / 1000)).toBeCloseTo(4.055627, 4);
    expect(normalQuantile(0.1)).toBeCloseTo(-normalQuantile(0.9), 12);
    expect(normalQuantile(0.5)).toBe(0);
  });
});

describe('exact McNemar test', () => {
  it('b = 10, c = 2 gives two-sided p = 0.0386', () => {
    expect(mcnemarExact(10, 2)).toBeCloseTo(0.0386, 4);
    expect(mcnemarExact(2, 10)).toBe(mcnemarExact(10, 2));
  });

  it('is 1 with no or balanced discordant pairs, and tiny (not 0) for hundreds of them', () => {
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(7, 7)).toBe(1);
    expect(mcnemarExact(0, 5)).toBeCloseTo(2 / 32, 12);
    const p = mcnemarExact(600, 400); // normal approximation with continuity: z ≈ 6.3, p ≈ 3e-10
    expect(p).toBeGreaterThan(1e-11);
    expect(p).toBeLessThan(1e-9);
  });
});

describe('the words for a difference', () => {
  it('better and worse only when the 95% interval excludes 0', () => {
    expect(labelDifference(0.2, 3.1)).toBe('better');
    expect(labelDifference(-3.1, -0.2)).toBe('worse');
    expect(labelDifference(-1, 2)).toBe('no detectable difference at 95%');
    expect(labelDifference(0, 2)).toBe('no detectable difference at 95%');
  });
});
