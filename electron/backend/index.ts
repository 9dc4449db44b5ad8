// The backend: one object that owns the database, the job service and the media roots, and implements
// every MomeApi method. It runs the same under Electron, behind the HTTP bridge, and in tests.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { ApiError } from '../api/contract';
import { dispatch, type Handlers } from '../api/dispatch';
import { EventHub } from '../api/events';
import { scanFolder } from '../jobs/folder-scan';
import { claimImport, importDataset, recoverDatasets } from '../datasets/importer';
import { Purger } from '../datasets/purge';
import { gateFor } from '../store/write-gate';
import {
  browseImages,
  browseNlvr2,
  getDatasetStats,
  findLabelItem,
  getImageItem,
  listDatasets,
  removeDataset,
} from '../datasets/repository';
import { JobService } from '../jobs/service';
import { MediaRoots } from '../media/roots';
import { LabelHistory } from '../labels/history';
import { watchOtherProcesses } from '../labels/watch';
import { exportDataset } from '../datasets/export';
import { getEvalItems, listEvalRuns } from '../eval/repository';
import { compareEvalRuns } from '../eval/compare';
import { withIntervals } from '../eval/stats';
import { findFailureSlices } from '../eval/slices';
import { getEvalItemDetail } from '../eval/inspect';
import { getEvalSummary } from '../eval/summary';
import { getEmbeddingMap } from '../eval/embedding-map';
import { exportEvalReport } from '../eval/report/index';
import { evalMetricsWithMarks } from '../eval/extra-positives';
import { searchHandlers } from '../search/handlers';
import { defaultModelDir, sampleDatasetDirs } from './assets';
import { ModelRegistry } from '../models/registry';
import { fineTuneHandlers } from '../finetune/handlers';
import { modelCard } from '../models/card';
import { pythonSetting } from '../models/python-setting';
import { readMedia } from '../media/serve';
import { openDatabase, type Db } from '../store/db';
import { ensureHome, type HomeLayout } from '../store/home';
import { appVersion } from './version';

export interface BackendOptions {
  home: string;
  mode: 'electron' | 'browser';
  /** The native folder dialog, given by the Electron shell (the backend itself never imports electron). */
  pickFolder?: (title: string) => Promise<string | null>;
  /** The native file dialog, limited to the given extensions (none: any file). */
  pickFile?: (title: string, extensions: string[]) => Promise<string | null>;
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
  const roots = new MediaRoots(db);
  const labels = new LabelHistory(db);
  // main-thread writes that may meet a dataset worker's write lock are queued here, never waited for in SQLite
  const gate = gateFor(db);
  // another process on this database (the desktop app beside a browser-mode server, the CLI): its edits show too
  const stopWatching = watchOtherProcesses(db, (entity, id) => events.emit('dataChanged', { entity, id }));
  const models = new ModelRegistry(db, home.models);
  const python = pythonSetting(db); // the interpreter the user chose (MOME_PYTHON still wins)
  const defaultAuthor = (() => {
    try {
      return os.userInfo().username;
    } catch {
      return 'user';
    }
  })();
  const who = (p: { author?: string; view?: string; evalRunId?: number }) => ({
    ...p,
    author: p.author ?? defaultAuthor,
  });
  const search = searchHandlers({
    db,
    jobs,
    registry: models,
    cacheDir: path.join(home.cache, 'embeddings'),
    defaultModelDir,
  });
  const labelsChanged = (written: { id: number; datasetId: number }[]) => {
    const labelEventId = Math.max(...written.map((e) => e.id));
    for (const id of new Set(written.map((e) => e.datasetId)))
      events.emit('dataChanged', { entity: 'labels', id, labelEventId });
  };

  const handlers: Handlers = {
    getAppInfo: () => ({
      version: appVersion(),
      mode: options.mode,
      home: home.root,
      databasePath: home.database,
      activeModel: (() => {
        const m = models.active();
        if (!m) return null;
        const p = models.providerFor();
        return { name: m.name, version: m.version, provider: p.provider, providerReason: p.reason, device: p.device };
      })(),
      platform: `${os.platform()}-${os.arch()}`,
    }),
    listJobs: ({ limit }) => jobs.list(limit),
    getJob: ({ id }) => jobs.get(id),
    cancelJob: ({ id }) => jobs.cancel(id),
    startFolderScan: ({ path: dir }) =>
      jobs.start('folder-scan', `Scan ${path.basename(dir) || dir}`, { path: dir }, (ctx) => scanFolder(dir, ctx)),
    startDatasetImport: async ({ path: dir, kind, refresh }) => {
      // answered at once, so the UI can offer a refresh instead; a second import of the folder is refused
      const claim = await gate.run(() => claimImport(db, dir, refresh));
      return jobs.start(
        'dataset-import',
        `Import ${path.basename(dir) || dir}`,
        { path: dir, kind, refresh },
        async (ctx) => {
          const summary = await importDataset(db, { root: dir, kind, refresh, claim }, ctx);
          roots.add(summary.root, summary.name); // its images may now be shown
          events.emit('dataChanged', { entity: 'datasets', id: summary.datasetId });
          return summary;
        },
      );
    },
    listDatasets: () => listDatasets(db),
    removeDataset: async ({ id, deleteLabels }) => {
      const { purge, ...result } = await gate.run(() => removeDataset(db, id, deleteLabels));
      if (purge) void purger.purge(id); // a large dataset is hidden now, its rows go in the background
      if (result.removed) events.emit('dataChanged', { entity: 'datasets', id });
      if (result.labelsDeleted) events.emit('dataChanged', { entity: 'labels', id });
      return result;
    },
    countLabels: ({ datasetId }) => ({
      events: (
        db.prepare('SELECT count(*) AS n FROM label_events WHERE dataset_id = ?').get(datasetId) as { n: number }
      ).n,
    }),
    pickFolder: async ({ title }) => (options.pickFolder ? options.pickFolder(title ?? 'Choose a folder') : null),
    pickFile: async ({ title, extensions }) =>
      options.pickFile ? options.pickFile(title ?? 'Choose a file', extensions ?? []) : null,
    browseImages: (q) => browseImages(db, q),
    getImageItem: ({ id }) => getImageItem(db, id),
    findLabelItem: (t) =>
      findLabelItem(db, t, t.kind === 'caption' ? String(labels.current(t, 'image') ?? '') : undefined),
    browseNlvr2: (q) => browseNlvr2(db, q),
    getDatasetStats: ({ datasetId }) => getDatasetStats(db, datasetId),
    // label writes wait for the write lock without blocking the event loop (a dataset worker may hold it)
    editLabels: async ({ edits, ...p }) => {
      const written = await gate.run(() => labels.edit(edits, who(p)));
      labelsChanged(written);
      return written;
    },
    undoLabel: async ({ datasetId, ...p }) => {
      const e = await gate.run(() => labels.undo(who(p), datasetId));
      if (e) labelsChanged([e]);
      return e;
    },
    redoLabel: async ({ datasetId, ...p }) => {
      const e = await gate.run(() => labels.redo(who(p), datasetId));
      if (e) labelsChanged([e]);
      return e;
    },
    revertLabel: async ({ eventId, ...p }) => {
      const e = await gate.run(() => labels.revert(eventId, who(p)));
      labelsChanged([e]);
      return e;
    },
    listLabelEvents: (q) => labels.list(q),
    getLabelState: ({ targets }) => labels.state(targets),
    startEvaluation: ({ task, datasetId, split, modelDir, k, rerankK, device: asked }) => {
      const device = asked === 'auto' ? models.device() : asked; // the user may have chosen CPU explicitly
      const dir = modelDir ?? models.active()?.dir ?? defaultModelDir();
      if (!dir)
        throw new ApiError('not_found', 'No model folder given and the embedded default model is not installed.');
      return jobs.start(
        'evaluation',
        `Evaluate ${task} on dataset ${datasetId} (${split === '*' ? 'all splits' : split})`,
        { task, datasetId, split, modelDir: dir, k, rerankK, device },
        async (ctx) => {
          // loaded on first use: ONNX Runtime is not needed to start the app
          const { runEvaluation } = await import('../eval/run-eval');
          const result = await runEvaluation(
            db,
            {
              task,
              datasetId,
              split,
              modelDir: dir,
              k,
              rerankK,
              device,
              cacheDir: path.join(home.cache, 'embeddings'),
            },
            ctx,
          );
          events.emit('dataChanged', { entity: 'datasets', id: datasetId });
          return { ...result, mistakes: result.mistakes.slice(0, 500) };
        },
      );
    },
    listEvalRuns: ({ datasetId, resamples, seed }) =>
      listEvalRuns(db, datasetId).map((r) => withIntervals(db, r, { resamples, seed })),
    listModels: ({ includeRemoved }) => models.list(includeRemoved),
    getModelCard: ({ id }) => modelCard(db, models, id),
    setModelDevice: ({ device }) => {
      models.setDevice(device);
      events.emit('dataChanged', { entity: 'models' });
      return models.providerFor();
    },
    ...python.handlers,
    startModelImport: ({ path: source, vocab }) =>
      jobs.start('model-import', `Import model ${path.basename(source)}`, { path: source, vocab }, async (ctx) => {
        const m = await models.import(source, ctx, vocab);
        events.emit('dataChanged', { entity: 'models', id: m.id });
        return m;
      }),
    setActiveModel: ({ id }) => {
      const m = models.setActive(id);
      events.emit('dataChanged', { entity: 'models', id });
      return m;
    },
    removeModel: ({ id }) => {
      models.remove(id);
      events.emit('dataChanged', { entity: 'models', id });
      return { removed: true };
    },
    ...search.handlers,
    ...fineTuneHandlers(
      { db, labels, models, home, modelsChanged: (id) => events.emit('dataChanged', { entity: 'models', id }) },
      jobs,
    ),
    getEvalItems: (q) => getEvalItems(db, q),
    compareEvalRuns: (q) => compareEvalRuns(db, q),
    getEvalItemDetail: (q) => getEvalItemDetail(db, q),
    getEvalSummary: ({ runId }) => getEvalSummary(db, runId),
    findFailureSlices: (q) => findFailureSlices(db, q),
    getEmbeddingMap: (q) => getEmbeddingMap(db, path.join(home.cache, 'embeddings'), q),
    exportEvalReport: (q) => exportEvalReport({ db, registry: models }, q),
    getEvalMetricsWithMarks: ({ runId }) => evalMetricsWithMarks(db, runId),
    startDatasetExport: ({ datasetId, out }) =>
      jobs.start('dataset-export', `Export dataset ${datasetId}`, { datasetId, out }, async (ctx) => {
        ctx.progress(0.05, 'Writing the corrected dataset');
        return exportDataset(db, labels, datasetId, out);
      }),
    listMediaRoots: () => roots.list(),
    addMediaRoot: ({ path: dir, label }) => {
      const root = roots.add(dir, label);
      events.emit('dataChanged', { entity: 'mediaRoots', id: root.id });
      return root;
    },
    listDirectory: async ({ path: dir, includeFiles }) => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new ApiError('not_found', `The folder ${dir} does not exist.`);
        if (code === 'ENOTDIR') throw new ApiError('invalid_arguments', `${dir} is not a folder.`);
        throw new ApiError('forbidden', `Cannot read ${dir}: ${(e as Error).message}`);
      }
      return entries
        .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (includeFiles && e.isFile())))
        .map((e) => ({ name: e.name, path: path.join(dir, e.name), isDirectory: e.isDirectory() }))
        .sort((a, b) => Number(b.isDirectory) - Number(a.isDirectory) || a.name.localeCompare(b.name))
        .slice(0, 500);
    },
  };

  if (options.registerSamples) {
    registerSamples();
    try {
      models.registerShipped(defaultModelDir()); // the app opens with the shipped tiny model active
    } catch (e) {
      console.error(`The shipped model could not be registered: ${(e as Error).message}`);
    }
  }

  /**
   * First start: each shipped sample dataset is imported once, as a job the user sees. Recorded in settings,
   * so a sample the user removed is not imported again.
   */
  function registerSamples() {
    const key = 'samples.registered';
    const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    const done = new Set<string>(row ? JSON.parse(row.value) : []);
    for (const dir of sampleDatasetDirs()) {
      const name = path.basename(dir);
      if (done.has(name)) continue;
      jobs.start('dataset-import', `Import sample ${name}`, { path: dir, sample: true }, async (ctx) => {
        const summary = await importDataset(
          db,
          {
            root: dir,
            refresh: Boolean(db.prepare('SELECT 1 FROM datasets WHERE root = ?').get(fs.realpathSync(dir))),
          },
          ctx,
        );
        roots.add(summary.root, summary.name);
        done.add(name);
        db.prepare(
          'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
        ).run(key, JSON.stringify([...done]));
        events.emit('dataChanged', { entity: 'datasets', id: summary.datasetId });
        return summary;
      });
    }
  }

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
      python.close();
      db.close();
    },
  };
}
