// A large review queue is ordered in a worker thread (review-order.ts), with the same order as orderQueue inline.
import { describe, expect, it } from 'vitest';
import { ORDER_INLINE_BELOW, orderQueueOffThread } from '../../electron/eval/review-order';
import { orderQueue } from '../../electron/eval/review-score';
import { rng } from '../../model-runtime/src/index';

function data(n: number, dim: number) {
  const random = rng(n);
  const emb = new Float32Array(n * dim);
  // a third of the items in pairs of near-duplicates
  for (let i = 0; i < n; i++)
    for (let d = 0; d < dim; d++)
      emb[i * dim + d] = i % 3 === 1 ? emb[(i - 1) * dim + d] + 0.01 * (random() - 0.5) : random() - 0.5;
  return { emb, scores: Float32Array.from({ length: n }, () => random()) };
}

describe('review order off the event loop', () => {
  it('a large queue: the worker gives orderQueue’s order', async () => {
    const n = ORDER_INLINE_BELOW + 1000;
    const { emb, scores } = data(n, 32);
    const inline = orderQueue(scores, { embeddings: emb, dim: 32 });
    expect(inline).not.toEqual(orderQueue(scores)); // there was spacing to do
    expect(await orderQueueOffThread(scores, { embeddings: emb, dim: 32 })).toEqual(inline);
    // the caller's arrays are left as they were (copies cross to the worker)
    expect(emb.length).toBe(n * 32);
    expect(scores.length).toBe(n);
  });

  it('a small queue or one without embeddings: inline, the same order', async () => {
    const { emb, scores } = data(300, 16);
    expect(await orderQueueOffThread(scores, { embeddings: emb, dim: 16 })).toEqual(
      orderQueue(scores, { embeddings: emb, dim: 16 }),
    );
    expect(await orderQueueOffThread(scores)).toEqual(orderQueue(scores));
  });
});
