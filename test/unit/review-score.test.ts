import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REVIEW_WEIGHTS,
  combineScores,
  marginUncertainty,
  orderQueue,
  probabilityUncertainty,
  rankNormalize,
  worstNearDuplicatesPerWindow,
} from '../../electron/eval/review-score';

describe('review score', () => {
  it('rank-normalises with shared ranks for ties and non-finite values lowest', () => {
    expect(Array.from(rankNormalize(new Float32Array([3, 1, 2, 2, NaN])))).toEqual([1, 0.25, 0.625, 0.625, 0]);
  });

  it('uncertainty is highest at margin 0 and at p = 0.5', () => {
    const u = marginUncertainty(new Float32Array([0, 0.1, -0.5]));
    expect(u[0]).toBe(1);
    expect(u[0]).toBeGreaterThan(u[1]);
    expect(u[1]).toBeGreaterThan(u[2]);
    expect(Array.from(probabilityUncertainty(new Float32Array([0.5, 0, 1, 0.75])))).toEqual([1, 0, 0, 0.5]);
  });

  it('the weights decide which signal leads', () => {
    const err = new Float32Array([0.9, 0.1, 0.5]);
    const unc = new Float32Array([0.1, 0.9, 0.5]);
    const byErr = combineScores(err, unc, { labelError: 1, uncertainty: 0, diversity: 0 });
    const byUnc = combineScores(err, unc, { labelError: 0, uncertainty: 1, diversity: 0 });
    expect(orderQueue(byErr)[0]).toBe(0);
    expect(orderQueue(byUnc)[0]).toBe(1);
    const mixed = combineScores(err, unc, DEFAULT_REVIEW_WEIGHTS);
    expect(orderQueue(mixed)[0]).toBe(0);
  });

  it('a confident label error is not buried under undecided items', () => {
    // one item the model is sure is mislabelled (largest label-error score, least uncertain), many undecided ones
    const err = new Float32Array([5, ...Array.from({ length: 20 }, (_, i) => 0.5 + i / 100)]);
    const unc = new Float32Array([0, ...Array.from({ length: 20 }, () => 1)]);
    expect(orderQueue(combineScores(err, unc, DEFAULT_REVIEW_WEIGHTS))[0]).toBe(0);
    // with uncertainty weighted above label error, the undecided ones lead
    expect(orderQueue(combineScores(err, unc, { labelError: 0.3, uncertainty: 0.7, diversity: 1 }))[0]).not.toBe(0);
    // scores span [0, 1]
    const s = combineScores(err, unc, DEFAULT_REVIEW_WEIGHTS);
    expect(Math.max(...s)).toBe(1);
    expect(Math.min(...s)).toBeGreaterThanOrEqual(0);
  });

  it('near-duplicates are held back from the same window and every item is kept', () => {
    // items 0..9 are one cluster (identical direction), 10..99 are distinct
    const n = 100;
    const dim = n;
    const emb = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) emb[i * dim + (i < 10 ? 0 : i)] = 1;
    const scores = new Float32Array(n).map((_, i) => n - i); // the cluster scores highest
    const plain = orderQueue(scores);
    expect(worstNearDuplicatesPerWindow(plain, emb, dim, 50)).toBe(9);
    const order = orderQueue(scores, { embeddings: emb, dim, gap: 20 });
    expect(new Set(order).size).toBe(n);
    expect(order[0]).toBe(0);
    expect(order[1]).toBe(10);
    // the cluster is spaced 20 apart while distinct items last (0, 20, 40, 60, 80) ...
    expect(order.slice(0, 95).filter((i) => i < 10).length).toBe(5);
    expect(worstNearDuplicatesPerWindow(order.slice(0, 95), emb, dim, 20)).toBe(0);
    // ... and what is left of it comes last, in score order
    expect(order.slice(95)).toEqual([5, 6, 7, 8, 9]);
    // diversity 0 turns spacing off
    expect(orderQueue(scores, { embeddings: emb, dim, diversity: 0 })).toEqual(plain);
  });

  it('rejects signals of different lengths and too few embeddings', () => {
    expect(() => combineScores(new Float32Array(2), new Float32Array(3), DEFAULT_REVIEW_WEIGHTS)).toThrow(/length/);
    expect(() => orderQueue(new Float32Array(3), { embeddings: new Float32Array(2), dim: 1 })).toThrow(/embeddings/);
  });
});
