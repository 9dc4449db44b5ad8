// The backend's composition root: it creates the services every domain shares (the database, the job service,
// the media roots, the label history, the model registry) and merges the domains' handler maps into one object
// that implements every MomeApi method. It holds no logic of its own: a method lives in its domain's handlers.ts.
// It runs the same under Electron, behind the HTTP bridge, and in tests.
import path from 'node:path';
import { dispatch, type Handlers } from '../api/dispatch';
import { EventHub } from '../api/events';
import { datasetHandlers } from '../datasets/handlers';
import { Purger } from '../datasets/purge';
import { recoverDatasets } from '../datasets/repository';
import { recoverEvalRuns } from '../eval/repository';
import { importedItems } from '../datasets/items';
import { evalHandlers } from '../eval/handlers';
import { fineTuneHandlers } from '../finetune/handlers';
import { jobHandlers } from '../jobs/handlers';
import { JobService } from '../jobs/service';
import { labelHandlers } from '../labels/handlers';
import { LabelHistory } from '../labels/history';
import { watchOtherProcesses } from './watch';
import { mediaHandlers } from '../media/handlers';
import { MediaRoots } from '../media/roots';
import { readMedia } from '../media/serve';
import { modelHandlers } from '../models/handlers';
import { ModelRegistry } from '../models/registry';
import { searchHandlers } from '../search/handlers';
import { openDatabase, type Db } from '../store/db';
import { ensureHome, type HomeLayout } from '../store/home';
import { gateFor } from '../store/write-gate';
import { appHandlers, type AppShell } from './app-handlers';
import { defaultModelDir } from './assets';
import { registerShipped } from './first-start';

export interface BackendOptions extends AppShell {
  home: string;
  /** Import the sample datasets shipped in assets/ on first start (the app does; tests mostly do not). */
  registerSamples?: boolean;
}

export interface Backend {
  readonly home: HomeLayout;
  readonly db: Db;
  readonly events: EventHub;
  readonly jobs: JobService;
  readonly roots: MediaRoots;
  readonly labels: LabelHistory;
  readonly handlers: Handlers;
  call(method: string, args: unknown): Promise<unknown>;
  media(requested: string, thumb?: number): ReturnType<typeof readMedia>;
  close(): Promise<void>;
}

export function createBackend(options: BackendOptions): Backend {
  const home = ensureHome(options.home);
  const db = openDatabase(home.database);
  const events = new EventHub();
  const jobs = new JobService(db, {
    progress: (job) => events.emit('jobProgress', job),
    finished: (job) => {
      events.emit('jobFinished', job);
      events.emit('dataChanged', { entity: 'jobs', id: job.id });
    },
  });
  jobs.recoverInterrupted();
  // rows of large removals and of killed imports are deleted in a worker thread, in the background
  const purger = new Purger(db);
  for (const id of recoverDatasets(db)) void purger.purge(id);
  // runs a killed process was writing: hidden, deleted in steps in the background
  void recoverEvalRuns(db).catch((e: Error) => console.error(`Deleting partial evaluation runs failed: ${e.message}`));
  const roots = new MediaRoots(db);
  const labels = new LabelHistory(db, importedItems(db));
  // main-thread writes that may meet a dataset worker's write lock are queued here, never waited for in SQLite
  const gate = gateFor(db);
  // another process on this database (the desktop app beside a browser-mode server, the CLI): its edits show too
  const stopWatching = watchOtherProcesses(db, (entity, id) => events.emit('dataChanged', { entity, id }));
  const models = new ModelRegistry(db, home.models);
  const cacheDir = path.join(home.cache, 'embeddings');

  const modelDomain = modelHandlers({ db, models, jobs, events });
  const search = searchHandlers({ db, jobs, registry: models, cacheDir, defaultModelDir });
  const handlers: Handlers = {
    ...appHandlers({ shell: options, home, models }),
    ...jobHandlers(jobs),
    ...datasetHandlers({ db, jobs, roots, labels, gate, purger, events }),
    ...labelHandlers({ db, labels, gate, events }),
    ...evalHandlers({ db, jobs, models, events, cacheDir, defaultModelDir }),
    ...modelDomain.handlers,
    ...search.handlers,
    ...fineTuneHandlers(
      {
        db,
        labels,
        models,
        home,
        modelsChanged: (id) => events.emit('dataChanged', { entity: 'models', id }),
        defaultModelDir,
      },
      jobs,
    ),
    ...mediaHandlers({ roots, events }),
  };

  if (options.registerSamples) registerShipped({ db, jobs, roots, models, events });

  return {
    home,
    db,
    events,
    jobs,
    roots,
    labels,
    handlers,
    call: (method, args) => dispatch(handlers, method, args),
    media: (requested, thumb) => readMedia(roots, home.thumbnails, requested, thumb),
    async close() {
      stopWatching();
      await jobs.cancelAll();
      await search.close();
      await purger.close();
      modelDomain.close();
      db.close();
    },
  };
}
