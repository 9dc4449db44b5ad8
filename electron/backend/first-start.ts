// First start: each shipped sample dataset is imported once, as a job the user sees, and the shipped tiny model
// is registered and made active. The imported samples are recorded in settings, so a sample the user removed is
// not imported again.
import fs from 'node:fs';
import path from 'node:path';
import type { EventHub } from '../api/events';
import { importDataset } from '../datasets/importer';
import { datasetIdAt } from '../datasets/repository';
import type { JobService } from '../jobs/service';
import type { MediaRoots } from '../media/roots';
import type { ModelRegistry } from '../models/registry';
import type { Db } from '../store/db';
import { readSetting, writeSetting } from '../store/settings';
import { defaultModelDir, sampleDatasetDirs } from './assets';

const SAMPLES_KEY = 'samples.registered';

export function registerShipped(deps: {
  db: Db;
  jobs: JobService;
  roots: MediaRoots;
  models: ModelRegistry;
  events: EventHub;
}): void {
  importSamples(deps);
  try {
    deps.models.registerShipped(defaultModelDir()); // the app opens with the shipped tiny model active
  } catch (e) {
    console.error(`The shipped model could not be registered: ${(e as Error).message}`);
  }
}

function importSamples({ db, jobs, roots, events }: { db: Db; jobs: JobService; roots: MediaRoots; events: EventHub }) {
  const saved = readSetting(db, SAMPLES_KEY);
  const done = new Set<string>(saved ? JSON.parse(saved) : []);
  for (const dir of sampleDatasetDirs()) {
    const name = path.basename(dir);
    if (done.has(name)) continue;
    jobs.start('dataset-import', `Import sample ${name}`, { path: dir, sample: true }, async (ctx) => {
      const summary = await importDataset(
        db,
        {
          root: dir,
          refresh: datasetIdAt(db, fs.realpathSync(dir)) !== undefined,
        },
        ctx,
      );
      roots.add(summary.root, summary.name);
      done.add(name);
      writeSetting(db, SAMPLES_KEY, JSON.stringify([...done]));
      events.emit('dataChanged', { entity: 'datasets', id: summary.datasetId });
      return summary;
    });
  }
}
