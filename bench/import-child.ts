// Runs one import in its own process so that its peak RSS is its own.
import { createBackend } from '../electron/backend/index';
import { importDataset } from '../electron/datasets/importer';

const [home, root] = process.argv.slice(2);
const backend = createBackend({ home, mode: 'browser' });
const c = new AbortController();
const t0 = performance.now();
const summary = await importDataset(
  backend.db,
  { root },
  { signal: c.signal, progress: () => undefined, throwIfCancelled: () => undefined },
);
const seconds = (performance.now() - t0) / 1000;
await backend.close();
process.stdout.write(
  JSON.stringify({
    seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    images: summary.images,
    captions: summary.captions,
  }),
);
