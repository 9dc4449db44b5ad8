// Child process for the interrupted-job test: starts a real folder scan and reports its job id as soon as
// the job has made progress; the parent then kills this process with SIGKILL.
import { createBackend } from '../../../electron/backend/index';

const [home, folder] = process.argv.slice(2);
const backend = createBackend({ home, mode: 'browser' });
let reported = false;
backend.events.on('jobProgress', (job) => {
  if (!reported && job.progress > 0) {
    reported = true;
    process.stdout.write(`RUNNING ${job.id}\n`);
  }
});
backend.handlers.startFolderScan({ path: folder });
