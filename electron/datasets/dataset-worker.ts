// The dataset worker thread: a large import, the deletion of a large dataset's rows (and the caption index's word
// list written again after a removal), or the caption-length histogram of a large dataset, on its own
// better-sqlite3 connection (WAL: the main thread keeps reading and writing meanwhile). Started through
// runtime-paths' startWorker('dataset-worker'); reports progress, the result or a serialized error. Before each
// write transaction it leaves the write lock to the main thread's queued writes (WriteGate), so the main thread
// never waits for it long and never waits inside SQLite.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { JobCancelled, type JobContext } from '../jobs/service';
import { openDatabase } from '../store/db';
import { yieldToMainThread } from '../store/write-gate';
import { runImport, serializeError, type ImportJob, type WorkerMessage, type Write } from './importer';
import { lengthHistogram } from './browse';
import { purgeDataset } from './repository';
import { recordCaptionTerms } from './caption-terms';

const WORKER_NICE = 10;

type Task =
  | { task: 'import'; dbFile: string; job: ImportJob; cancel: SharedArrayBuffer; gate?: SharedArrayBuffer }
  | { task: 'purge'; dbFile: string; datasetId: number; gate?: SharedArrayBuffer }
  | { task: 'terms'; dbFile: string; gate?: SharedArrayBuffer }
  | { task: 'stats'; dbFile: string; datasetId: number; kind: string; gate?: undefined };

const data = workerData as Task;
// On a busy machine this thread yields the CPU to the main thread (which answers requests): on Linux a nice
// value is per thread, so this lowers only this thread's priority (elsewhere it would lower the whole process).
if (process.platform === 'linux') {
  try {
    os.setPriority(WORKER_NICE);
  } catch {
    // not permitted: the thread keeps the process's priority
  }
}
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const db = openDatabase(data.dbFile);
/** One transaction, after the main thread's queued writes (and a turn of this thread's event loop). */
const write: Write = async (fn) => {
  await new Promise<void>((r) => setImmediate(r));
  yieldToMainThread(data.gate);
  return fn();
};

async function main() {
  if (data.task === 'stats') {
    parentPort!.postMessage({ type: 'stats', histogram: lengthHistogram(db, data.datasetId, data.kind) });
    return;
  }
  if (data.task === 'purge' || data.task === 'terms') {
    if (data.task === 'purge') await purgeDataset(db, data.datasetId, write);
    // the removed captions' words leave the prefix-search list (one transaction: about 1.5 s at 5M captions)
    await write(() => db.transaction(() => recordCaptionTerms(db, false))());
    post({ type: 'done', summary: null as never });
    return;
  }
  // staged chunks need not reach the disk one by one: the hidden rows are worthless after a crash, and the
  // transaction that makes the dataset visible is written with synchronous=FULL (which syncs all before it)
  db.pragma('synchronous = NORMAL');
  const cancel = new Int32Array(data.cancel);
  let lastPost = 0;
  const ctx: JobContext = {
    signal: new AbortController().signal,
    throwIfCancelled: () => {
      if (Atomics.load(cancel, 0)) throw new JobCancelled();
    },
    progress: (fraction, message) => {
      const t = Date.now();
      if (t - lastPost < 50 && fraction < 1) return;
      lastPost = t;
      post({ type: 'progress', fraction, message });
    },
  };
  const summary = await runImport(db, data.job, ctx, write);
  post({ type: 'done', summary });
}

main()
  .catch((e) => post({ type: 'error', error: serializeError(e) }))
  .finally(() => db.close());
