// Child process for the evaluation crash test: a retrieval evaluation whose rows are written in small batches
// (a pause after each, as on a slow disk); prints each committed batch ("BATCH <run id> <rows>").
import path from 'node:path';
import { createBackend } from '../../../electron/backend/index';
import { datasetRoot } from '../../../electron/datasets/repository';
import { EvalRunWriter } from '../../../electron/eval/repository';
import { evaluateRetrieval } from '../../../electron/eval/retrieval-eval';
import { cacheKeys } from '../../../electron/models/model-folder';
import { MomeModel } from '../../../model-runtime/src/index';

const [home, datasetId, modelDir] = process.argv.slice(2);
const backend = createBackend({ home, mode: 'browser' });
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const model = await MomeModel.load(modelDir, { device: 'cpu' });
const keys = cacheKeys(modelDir);
const o = {
  task: 'retrieval' as const,
  modelDir,
  datasetId: Number(datasetId),
  split: 'test',
  k: 10,
  device: 'cpu' as const,
  cacheDir: path.join(backend.home.cache, 'embeddings'),
};
const writer = new EvalRunWriter(backend.db, {
  ...o,
  modelName: model.config.name,
  fingerprint: keys.texts,
  options: { k: 10 },
  provider: 'cpu',
});
const pause = new Int32Array(new SharedArrayBuffer(4));
const out = await evaluateRetrieval(
  backend.db,
  model,
  keys,
  datasetRoot(backend.db, o.datasetId),
  o,
  quiet,
  (rows) => {
    writer.add(rows);
    process.stdout.write(`BATCH ${writer.runId} ${rows.length}\n`);
    Atomics.wait(pause, 0, 0, 30);
  },
  5,
);
writer.finish(out.metrics, 1);
process.stdout.write('DONE\n');
setInterval(() => undefined, 1000); // stay alive until killed
