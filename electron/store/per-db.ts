// Caches that belong to one database connection: kept in a WeakMap keyed by the connection, so a closed
// backend's caches go with it and two homes (tests, the CLI beside the app) never share one.
import type { Db } from './db';

/** The map `caches` keeps for `db`, made on first use. */
export function perDb<V>(caches: WeakMap<Db, Map<string, V>>, db: Db): Map<string, V> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  return cache;
}
