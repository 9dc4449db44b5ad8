// Worker thread: orders one review queue (review-score's orderQueue) off the thread that serves the UI and the API.
// Started through runtime-paths' startWorker('review-order-worker') by review-order.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { orderQueue, type OrderOptions } from './review-score';

const { scores, opts } = workerData as { scores: Float32Array; opts: OrderOptions };
const order = Int32Array.from(orderQueue(scores, opts));
parentPort!.postMessage({ order }, [order.buffer as ArrayBuffer]);
