// The dataset worker thread: a large import, or the deletion of a large dataset's rows, on its own
// better-sqlite3 connection (WAL: the main thread keeps reading and writing meanwhile). Started through
// runtime-paths' startWorker('dataset-worker'); reports progress, the result or a serialized error.
import { parentPort, workerData } from 'node:worker_threads';
import { JobCancelled, type JobContext } from '../jobs/service';
import { openDatabase } from '../store/db';
import { runImport, serializeError, type ImportJob, type WorkerMessage } from './importer';
import { purgeDataset } from './repository';

type Task =
  | { task: 'import'; dbFile: string; job: ImportJob; cancel: SharedArrayBuffer }
  | { task: 'purge'; dbFile: string; datasetId: number };

const data = workerData as Task;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const db = openDatabase(data.dbFile);
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

async function main() {
  if (data.task === 'purge') {
    await purgeDataset(db, data.datasetId, yieldNow);
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
  const summary = await runImport(db, data.job, ctx);
  post({ type: 'done', summary });
}

main()
  .catch((e) => post({ type: 'error', error: serializeError(e) }))
  .finally(() => db.close());
