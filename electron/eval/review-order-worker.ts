// Worker thread: orders a review queue with near-duplicate spacing (review-score's orderQueue) off the thread that
// serves the API: spacing compares each item with the ones shown just before it, which for tens of thousands of
// items with embeddings takes longer than a request may hold the event loop. Started by review-queue.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { orderQueue } from './review-score';

const { scores, embeddings, dim, diversity } = workerData as {
  scores: Float32Array;
  embeddings: Float32Array;
  dim: number;
  diversity: number;
};
try {
  const order = Int32Array.from(orderQueue(scores, { embeddings, dim, diversity }));
  parentPort!.postMessage({ order }, [order.buffer]);
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
