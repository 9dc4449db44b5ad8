// Deletes the rows of hidden datasets (large ones being removed, imports a killed process left) in the dataset
// worker thread, one at a time, so the main thread never holds the database for the seconds that takes; after
// each, and after a removal too large for the main thread to list the caption index's words, the worker writes
// that list again (caption-terms.ts).
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../model-runtime/src/index';
import type { Db } from '../store/db';
import { gateFor } from '../store/write-gate';
import type { WorkerMessage } from './importer';

export class Purger {
  private queue: Promise<void> = Promise.resolve();
  private worker: Worker | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly done: (datasetId: number) => void = () => undefined,
  ) {}

  /** Queues a dataset; resolves when its rows are gone (or the purger was closed: the next start resumes). */
  purge(datasetId: number): Promise<void> {
    return this.enqueue(datasetId);
  }

  /** Queues writing the caption index's word list again (after a removal the main thread could not list). */
  terms(): Promise<void> {
    return this.enqueue(null);
  }

  private enqueue(datasetId: number | null): Promise<void> {
    this.queue = this.queue.then(() => (this.closed ? undefined : this.run(datasetId)));
    return this.queue;
  }

  private run(datasetId: number | null): Promise<void> {
    const what = datasetId === null ? "Listing the caption index's words" : `Removing the rows of dataset ${datasetId}`;
    return new Promise<void>((resolve) => {
      const gate = gateFor(this.db);
      const task = datasetId === null ? { task: 'terms' } : { task: 'purge', datasetId };
      const worker = startWorker('dataset-worker', {
        workerData: { ...task, dbFile: this.db.name, gate: gate.shared },
      });
      gate.workerStarted();
      this.worker = worker;
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'error') console.error(`${what} failed: ${JSON.stringify(m.error)}`);
        if (m.type === 'done' && datasetId !== null) this.done(datasetId);
      });
      worker.on('error', (e) => console.error(`${what} failed: ${e.message}`));
      worker.on('exit', () => {
        this.worker = null;
        gate.workerEnded();
        resolve();
      });
    });
  }

  /** Stops the running purge (its committed chunks stay; the rest is purged at the next start). */
  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
    await this.queue;
  }
}
