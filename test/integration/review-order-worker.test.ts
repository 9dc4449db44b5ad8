// The review queue's spacing of near-duplicates, ordered in a worker thread for a long queue: the same order as
// review-score's orderQueue computed inline, and a worker failure is an error, not a hang.
import { describe, expect, it } from 'vitest';
import { ORDER_IN_WORKER_FROM, orderSpaced } from '../../electron/eval/review-queue';
import { orderQueue, worstNearDuplicatesPerWindow } from '../../electron/eval/review-score';

/** n items in clusters of near-duplicates (cosine > 0.99 within a cluster), seeded. */
function clustered(n: number, dim: number, clusters: number) {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, rand));
  const emb = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) emb[i * dim + d] = centres[i % clusters][d] + 0.02 * rand();
  const scores = Float32Array.from({ length: n }, () => (rand() + 1) / 2);
  return { emb, scores };
}

describe('ordering a long review queue in a worker', () => {
  it('gives the inline order, with near-duplicates spaced', async () => {
    const n = ORDER_IN_WORKER_FROM + 500;
    const dim = 32;
    const { emb, scores } = clustered(n, dim, 400);
    const inWorker = await orderSpaced(scores, emb, dim, 1);
    expect(inWorker).toEqual(orderQueue(scores, { embeddings: emb, dim, diversity: 1 }));
    expect(new Set(inWorker).size).toBe(n);
    // without spacing the same data shows near-duplicates within 50 items; with it, none
    expect(worstNearDuplicatesPerWindow(orderQueue(scores), emb, dim)).toBeGreaterThan(0);
    // (at the very end only near-duplicates may be left; the goal: at most 5% of any 50 consecutive items)
    expect(worstNearDuplicatesPerWindow(inWorker, emb, dim)).toBeLessThanOrEqual(2);
  });

  it('a bad input fails with a message', async () => {
    const n = ORDER_IN_WORKER_FROM + 1;
    await expect(orderSpaced(new Float32Array(n), new Float32Array(10), 32, 1)).rejects.toThrow(
      /ordering the review queue failed: review order: fewer embeddings than items/,
    );
  });
});
