// Child process for the app-killed-during-a-fine-tune test: imports the NLVR2 sample and a model, starts a long
// fine-tune, and prints the job id and the trainer's pid once training has made progress; the parent then
// kills this process with SIGKILL.
import { createBackend } from '../../../electron/backend/index';
import type { FineTune } from '../../../electron/api/schemas';
import { importModel, importSample, trainerPid } from './finetune';

const [home, modelDir] = process.argv.slice(2);
const backend = createBackend({ home, mode: 'browser' });
const datasetId = await importSample(backend, 'nlvr2-sample');
await importModel(backend, modelDir);
const job = (await backend.call('startFineTune', { datasetId, maxSteps: 100000, batchSize: 8 })) as { id: number };
const timer = setInterval(async () => {
  const ft = (await backend.call('getFineTune', { jobId: job.id })) as FineTune;
  const pid = trainerPid(ft);
  if (ft.points.length > 0 && pid) {
    clearInterval(timer);
    process.stdout.write(`RUNNING ${job.id} ${pid}\n`);
  }
}, 200);
