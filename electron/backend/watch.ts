// Edits made by ANOTHER process on the same database (the desktop app and a browser-mode server on one home,
// or the `mome` CLI importing while the app runs) reach this process's clients too. SQLite's data_version
// changes exactly when another connection has committed, so a cheap poll finds them; then only what changed
// is announced: the datasets whose labels got new events, the dataset list, the model list.
import { datasetListStamp } from '../datasets/repository';
import type { Db } from '../store/db';

type Entity = 'labels' | 'datasets' | 'models';

export function watchOtherProcesses(db: Db, changed: (entity: Entity, id?: number) => void, everyMs = 500): () => void {
  const one = <T>(sql: string) => db.prepare(sql).get() as T;
  const datasetsSig = () => datasetListStamp(db);
  const modelsSig = () =>
    JSON.stringify(
      one(
        `SELECT count(*), max(id), count(removed_at), (SELECT value FROM settings WHERE key = 'active_model') FROM models`,
      ),
    );
  let version = db.pragma('data_version', { simple: true }) as number;
  let lastEvent = one<{ m: number | null }>('SELECT max(id) AS m FROM label_events').m ?? 0;
  let datasets = datasetsSig();
  let models = modelsSig();

  const poll = () => {
    if (!db.open) return;
    const v = db.pragma('data_version', { simple: true }) as number;
    if (v === version) return;
    version = v;
    const fresh = db
      .prepare('SELECT dataset_id AS d, max(id) AS m FROM label_events WHERE id > ? GROUP BY dataset_id')
      .all(lastEvent) as { d: number; m: number }[];
    for (const r of fresh) {
      lastEvent = Math.max(lastEvent, r.m);
      changed('labels', r.d);
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
