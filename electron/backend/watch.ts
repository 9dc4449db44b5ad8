// Edits made by ANOTHER process on the same database (the desktop app and a browser-mode server on one home,
// or the `mome` CLI importing while the app runs) reach this process's clients too. SQLite's data_version
// changes exactly when another connection has committed, so a cheap poll finds them; then only what changed
// is announced: the datasets whose labels got new events, the dataset list, the model list.
import { datasetListStamp } from '../datasets/repository';
import { labelEventsSince, lastLabelEventId } from '../labels/history';
import { modelListStamp } from '../models/registry';
import type { Db } from '../store/db';

type Entity = 'labels' | 'datasets' | 'models';

export function watchOtherProcesses(db: Db, changed: (entity: Entity, id?: number) => void, everyMs = 500): () => void {
  const datasetsSig = () => datasetListStamp(db);
  const modelsSig = () => modelListStamp(db);
  let version = db.pragma('data_version', { simple: true }) as number;
  let lastEvent = lastLabelEventId(db);
  let datasets = datasetsSig();
  let models = modelsSig();

  const poll = () => {
    if (!db.open) return;
    const v = db.pragma('data_version', { simple: true }) as number;
    if (v === version) return;
    version = v;
    for (const r of labelEventsSince(db, lastEvent)) {
      lastEvent = Math.max(lastEvent, r.lastId);
      changed('labels', r.datasetId);
    }
    const ds = datasetsSig();
    if (ds !== datasets) changed('datasets');
    datasets = ds;
    const ms = modelsSig();
    if (ms !== models) changed('models');
    models = ms;
  };
  const timer = setInterval(() => {
    try {
      poll();
    } catch (e) {
      console.error(`watching the database for other writers failed: ${(e as Error).message}`);
    }
  }, everyMs);
  timer.unref(); // never keeps a CLI or a test process alive
  return () => clearInterval(timer);
}
