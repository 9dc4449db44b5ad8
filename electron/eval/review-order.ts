// The review queue's order off the event loop: a queue with near-duplicate spacing over more than a few thousand
// items takes longer to order than a reply may wait (the review bench: about 140 ms at 12,000 items, 200 ms at a
// COCO-Karpathy test split's 25,000 captions), so it is ordered in a worker thread; small queues inline.
import { startWorker } from '../../model-runtime/src/runtime-paths'; // not index: no native module is needed here
import { orderQueue, type OrderOptions } from './review-score';

/** Below this many items (or without embeddings) the order is computed inline: a worker would cost more. */
export const ORDER_INLINE_BELOW = 4000;

/** orderQueue's order, computed in a worker thread for a large queue with embeddings. */
export function orderQueueOffThread(scores: Float32Array, opts: OrderOptions = {}): Promise<number[]> {
  if (!opts.embeddings || scores.length < ORDER_INLINE_BELOW) return Promise.resolve(orderQueue(scores, opts));
  const s = Float32Array.from(scores);
  const embeddings = Float32Array.from(opts.embeddings);
  const worker = startWorker('review-order-worker', {
    workerData: { scores: s, opts: { ...opts, embeddings } },
    transferList: [s.buffer, embeddings.buffer],
  });
  return new Promise((resolve, reject) => {
    let done = false;
    worker.on('message', (m: { order: Int32Array }) => {
      done = true;
      resolve(Array.from(m.order));
      void worker.terminate();
    });
    worker.on('error', reject);
    worker.on('exit', (code) => !done && reject(new Error(`the review order worker stopped (exit code ${code})`)));
  });
}
