// The review queue's diversity step on data with planted near-duplicate clusters: at most 5% near-duplicates
// (2 of 50) in any 50 consecutive items, where the score order alone shows many; and the fast orderQueue gives
// exactly the order of the rule written out plainly (full cosines, every window scanned).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REVIEW_WEIGHTS,
  NEAR_DUPLICATE_COSINE,
  combineScores,
  marginUncertainty,
  orderQueue,
  worstNearDuplicatesPerWindow,
} from '../../electron/eval/review-score';
import { rng } from '../../model-runtime/src/index';

/**
 * `n` vectors of `dim`; items 0..clustered-1 in clusters of `size` near-duplicates (cosine about 0.97-0.99) with
 * close margins, as near-duplicate captions get from a model; the rest independent.
 */
function planted(n: number, dim: number, clustered: number, size: number, seed: number, spread = 0.012) {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const emb = new Float32Array(n * dim);
  const margin = new Float32Array(n);
  // clusters are scattered over the queue: item order is not score order
  const slot = Array.from({ length: n }, (_, i) => i).sort(() => random() - 0.5);
  for (let i = 0; i < n; i++) {
    const centre = i < clustered && i % size !== 0 ? slot[i - (i % size)] : -1;
    const row = slot[i];
    for (let d = 0; d < dim; d++)
      emb[row * dim + d] =
        centre >= 0 ? emb[centre * dim + d] + spread * gauss() * Math.sqrt(256 / dim) : gauss() / Math.sqrt(dim);
    let s = 0;
    for (let d = 0; d < dim; d++) s += emb[row * dim + d] ** 2;
    for (let d = 0; d < dim; d++) emb[row * dim + d] /= Math.sqrt(s);
    margin[row] = centre >= 0 ? margin[centre] + 0.005 * gauss() : 0.3 * gauss();
  }
  return { emb, scores: combineScores(margin, marginUncertainty(margin), DEFAULT_REVIEW_WEIGHTS) };
}

/** The rule of orderQueue written out plainly. */
function plainOrder(scores: Float32Array, emb: Float32Array, dim: number, gap: number): number[] {
  const cos = (a: number, b: number) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let d = 0; d < dim; d++) {
      dot += emb[a * dim + d] * emb[b * dim + d];
      na += emb[a * dim + d] ** 2;
      nb += emb[b * dim + d] ** 2;
    }
    return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
  };
  const byScore = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  const out: number[] = [];
  const latest = (i: number) => {
    for (let k = out.length - 1; k >= Math.max(0, out.length - gap); k--)
      if (cos(i, out[k]) >= NEAR_DUPLICATE_COSINE) return k;
    return -1;
  };
  const held: number[] = [];
  let next = 0;
  while (out.length < byScore.length) {
    const free = held.findIndex((i) => latest(i) < 0);
    if (free >= 0) {
      out.push(held.splice(free, 1)[0]);
      continue;
    }
    if (next < byScore.length) {
      const i = byScore[next++];
      if (latest(i) >= 0) held.push(i);
      else out.push(i);
      continue;
    }
    // oldest conflict first: the latest near-duplicate anywhere in the order so far
    const conflict = (i: number) => {
      for (let k = out.length - 1; k >= 0; k--) if (cos(i, out[k]) >= NEAR_DUPLICATE_COSINE) return k;
      return -1;
    };
    let pick = 0;
    for (let h = 1; h < held.length; h++) if (conflict(held[h]) < conflict(held[pick])) pick = h;
    out.push(held.splice(pick, 1)[0]);
  }
  // then each near-duplicate within gap of an earlier like moves to the latest earlier place without a like
  // within gap on either side, if there is one
  const isNear = (a: number, b: number) => cos(a, b) >= NEAR_DUPLICATE_COSINE;
  let failed = 0;
  for (let p = 0; p < out.length && failed < 20; p++) {
    if (!out.slice(Math.max(0, p - gap), p).some((y) => isNear(out[p], y))) continue;
    const [x] = out.splice(p, 1);
    let q = p - 1;
    while (q >= 0 && out.slice(Math.max(0, q - gap), q + gap).some((y) => isNear(x, y))) q--;
    out.splice(q >= 0 ? q : p, 0, x);
    failed = q >= 0 ? 0 : failed + 1;
  }
  return out;
}

describe('review queue diversity', () => {
  it('planted near-duplicate clusters: at most 2 in any 50 consecutive items, where score order has many', () => {
    // 3,000 items of 256 dimensions, 10% of them in clusters of 5
    const n = 3000;
    const dim = 256;
    const { emb, scores } = planted(n, dim, 300, 5, 11);
    const plain = orderQueue(scores);
    const diverse = orderQueue(scores, { embeddings: emb, dim });
    expect([...diverse].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    const before = worstNearDuplicatesPerWindow(plain, emb, dim, 50);
    const after = worstNearDuplicatesPerWindow(diverse, emb, dim, 50);
    console.log(`worst near-duplicates in 50 consecutive items: ${after} (score order: ${before})`);
    expect(before).toBeGreaterThan(2);
    expect(after).toBeLessThanOrEqual(2);
    // the highest score still leads, and the order stays close to the score order
    expect(diverse[0]).toBe(plain[0]);
  });

  it('a queue of near-duplicates of itself keeps every item and its best first', () => {
    const n = 300;
    const dim = 16;
    const emb = new Float32Array(n * dim).fill(1); // one direction for all
    const scores = Float32Array.from({ length: n }, (_, i) => i / n);
    const order = orderQueue(scores, { embeddings: emb, dim });
    expect(order).toEqual(orderQueue(scores)); // nothing to space: the score order
  });

  it('gives exactly the order of the plain rule, also when only near-duplicates are left', () => {
    for (const [seed, clustered, size, gap] of [
      [1, 120, 4, 20],
      [2, 300, 6, 50],
      [3, 400, 10, 30],
    ]) {
      const n = 400;
      const dim = 24;
      const { emb, scores } = planted(n, dim, clustered, size, seed, 0.03);
      const fast = orderQueue(scores, { embeddings: emb, dim, gap });
      expect(fast).toEqual(plainOrder(scores, emb, dim, gap));
      expect(fast).not.toEqual(orderQueue(scores)); // the spacing had work to do
    }
  });
});
