// The dataset methods of MomeApi: scanning a folder for datasets, importing, browsing, removing and exporting
// one. Imports and removals announce the dataset list's change; their large writes run off the main thread.
import path from 'node:path';
import type { Handlers } from '../api/dispatch';
import type { EventHub } from '../api/events';
import { scanFolder } from './folder-scan';
import type { JobService } from '../jobs/service';
import type { LabelHistory } from '../labels/history';
import type { MediaRoots } from '../media/roots';
import type { Db } from '../store/db';
import type { WriteGate } from '../store/write-gate';
import { exportDataset } from './export';
import { importDataset } from './importer';
import type { Purger } from './purge';
import { browseImages, browseNlvr2, findLabelItem, getDatasetStats, getImageItem } from './browse';
import { claimImport, listDatasets, removeDataset } from './repository';
import { captionTermsCurrent, recordCaptionTerms } from './caption-terms';

type DatasetHandlers = Pick<
  Handlers,
  | 'startFolderScan'
  | 'startDatasetImport'
  | 'listDatasets'
  | 'removeDataset'
  | 'browseImages'
  | 'getImageItem'
  | 'browseNlvr2'
  | 'getDatasetStats'
  | 'findLabelItem'
  | 'startDatasetExport'
>;

export function datasetHandlers(deps: {
  db: Db;
  jobs: JobService;
  roots: MediaRoots;
  labels: LabelHistory;
  gate: WriteGate;
  purger: Purger;
  events: EventHub;
}): DatasetHandlers {
  const { db, jobs, roots, labels, gate, purger, events } = deps;
  return {
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
      if (purge)
        void purger.purge(id); // a large dataset is hidden now, its rows go in the background
      else if (result.removed) await relistCaptionWords(db, gate, purger);
      if (result.removed) events.emit('dataChanged', { entity: 'datasets', id });
      if (result.labelsDeleted) events.emit('dataChanged', { entity: 'labels', id });
      return result;
    },
    browseImages: (q) => browseImages(db, q),
    getImageItem: ({ id }) => getImageItem(db, id),
    browseNlvr2: (q) => browseNlvr2(db, q),
    getDatasetStats: ({ datasetId }) => getDatasetStats(db, datasetId),
    // an added caption's item is the image it was added on, which its label history holds
    findLabelItem: (t) =>
      findLabelItem(db, t, t.kind === 'caption' ? String(labels.current(t, 'image') ?? '') : undefined),
    startDatasetExport: ({ datasetId, out }) =>
      jobs.start('dataset-export', `Export dataset ${datasetId}`, { datasetId, out }, async (ctx) => {
        ctx.progress(0.05, 'Writing the corrected dataset');
        return exportDataset(db, labels, datasetId, out);
      }),
  };
}

/**
 * After a removal done at once: the removed captions' words leave the prefix-search list (caption-terms.ts),
 * written here while the index is small, else by the dataset worker; an NLVR2 removal leaves the list current.
 */
async function relistCaptionWords(db: Db, gate: WriteGate, purger: Purger): Promise<void> {
  if (captionTermsCurrent(db)) return;
  if (!(await gate.run(() => db.transaction(() => recordCaptionTerms(db))()))) void purger.terms();
}
