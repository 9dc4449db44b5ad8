// What the backend announces, applied to the stores: job progress, and data another window, client or process
// changed (or this one: a label edit's echo is recognised by its label event, see the labels store).
import type { MomeApi } from '../../electron/api/contract';
import { useDatasets } from './features/datasets/store';
import { useJobs } from './features/jobs/store';
import { useLabels } from './features/labels/store';
import { useApp } from './stores/app';

/** Subscribes the stores to the backend's events; returns the unsubscribe. */
export function followBackendEvents(api: MomeApi): () => void {
  const offs = [
    api.on('jobProgress', (j) => useJobs.getState().apply(j)),
    api.on('jobFinished', (j) => useJobs.getState().apply(j)),
    api.on('dataChanged', (e) => {
      if (e.entity === 'datasets') void useDatasets.getState().load();
      if (e.entity === 'models') void useApp.getState().load();
      if (e.entity === 'labels') useLabels.getState().changed(e.labelEventId); // another window's edits show at once
    }),
  ];
  return () => offs.forEach((off) => off());
}
