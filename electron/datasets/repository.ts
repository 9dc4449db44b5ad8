// The datasets table: every read and write of a dataset's row (its identity, its import state, its removal) runs
// here. A dataset is visible when its state is 'ready'; an import claims a hidden row (or the row it refreshes)
// with the pid of the process doing it, and a removal hides the row before its items are purged.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { Dataset, DatasetKind } from '../api/schemas';
import { now, type Db } from '../store/db';
import { readSetting, writeSetting } from '../store/settings';
import { deleteDatasetLabels } from '../labels/history';
import type { ImportClaim, ImportSummary } from './records';

interface DatasetRow {
  id: number;
  kind: DatasetKind;
  name: string;
  root: string;
  summary: string;
  imported_at: string;
  refreshed_at: string | null;
}

export function listDatasets(db: Db): Dataset[] {
  return (db.prepare("SELECT * FROM datasets WHERE state = 'ready' ORDER BY id").all() as DatasetRow[]).map((r) => {
    const s = JSON.parse(r.summary) as ImportSummary;
    return {
      id: r.id,
      kind: r.kind,
      name: r.name,
      root: r.root,
      importedAt: r.imported_at,
      refreshedAt: r.refreshed_at,
      splits: s.splits ?? {},
      images: s.images ?? 0,
      captions: s.captions ?? 0,
      examples: s.examples ?? 0,
      missingImages: s.missingImages ?? 0,
      flaggedImages: s.flaggedImages ?? {},
    };
  });
}

/** A dataset's identity: what other domains need to read its items and files. */
export interface DatasetInfo {
  id: number;
  kind: DatasetKind;
  name: string;
  root: string;
}

/** A dataset in any state (a run or a fine-tune may name one whose removal is under way). */
export function datasetInfo(db: Db, id: number): DatasetInfo {
  const row = db.prepare('SELECT id, kind, name, root FROM datasets WHERE id = ?').get(id) as DatasetInfo | undefined;
  if (!row) throw new ApiError('not_found', `There is no dataset ${id}.`);
  return row;
}

/** The folder a dataset was imported from. */
export function datasetRoot(db: Db, id: number): string {
  return datasetInfo(db, id).root;
}

/** A visible dataset, with the annotation files it was read from (relative to its root). */
export function readyDataset(db: Db, id: number): DatasetInfo & { annotationFiles: string[] } {
  const row = db
    .prepare(`SELECT id, kind, name, root, annotation_files FROM datasets WHERE id = ? AND state = 'ready'`)
    .get(id) as (DatasetInfo & { annotation_files: string }) | undefined;
  if (!row) throw new ApiError('not_found', `There is no dataset ${id}.`);
  const { annotation_files, ...info } = row;
  return { ...info, annotationFiles: JSON.parse(annotation_files) as string[] };
}

/** The dataset imported from a folder (its real path), if any, in any state. */
export function datasetIdAt(db: Db, root: string): number | undefined {
  const row = db.prepare('SELECT id FROM datasets WHERE root = ?').get(root) as { id: number } | undefined;
  return row?.id;
}

/** When a dataset was last refreshed: null if never, undefined if there is no such dataset. */
export function datasetRefreshedAt(db: Db, id: number): string | null | undefined {
  return db.prepare('SELECT refreshed_at FROM datasets WHERE id = ?').pluck().get(id) as string | null | undefined;
}

/** Changes whenever the list of visible datasets changes (an import, a refresh, a removal). */
export function datasetListStamp(db: Db): string {
  return JSON.stringify(
    db
      .prepare("SELECT count(*), max(id), max(coalesce(refreshed_at, imported_at)) FROM datasets WHERE state = 'ready'")
      .get(),
  );
}

/**
 * The dataset already imported from this folder (resolved through symlinks), if any. Importing it again is a
 * conflict that names the dataset, so the UI can offer a refresh instead of making a duplicate; a folder being
 * imported or refreshed right now is a conflict too.
 */
export function checkNotImported(db: Db, folder: string, refresh = false): { id: number; name: string } | undefined {
  let root: string;
  try {
    root = fs.realpathSync(folder);
  } catch {
    return undefined; // the importer itself says the folder does not exist
  }
  const existing = db.prepare('SELECT id, name, state, busy_pid FROM datasets WHERE root = ?').get(root) as
    { id: number; name: string; state: string; busy_pid: number | null } | undefined;
  if (!existing) return undefined;
  if (existing.busy_pid !== null && processAlive(existing.busy_pid)) {
    throw new ApiError(
      'conflict',
      existing.state === 'importing'
        ? `${root} is being imported right now; wait for that import to finish (or cancel it) before importing it again.`
        : `${root} (dataset ${existing.id}, ${existing.name}) is being refreshed right now; wait for that refresh to finish (or cancel it).`,
      { datasetId: existing.id, name: existing.name },
    );
  }
  if (existing.state !== 'ready') return undefined; // left over by a killed process: claimImport clears it
  if (!refresh) {
    throw new ApiError(
      'conflict',
      `${root} is already imported as dataset ${existing.id} (${existing.name}). Refresh it instead of importing it again.`,
      { datasetId: existing.id, name: existing.name },
    );
  }
  return existing;
}

/**
 * Reserves a folder for one import, in one transaction: refused (conflict) while another import or refresh
 * of it runs, or when it is imported already and this is not a refresh. Undefined when the folder does not
 * exist (the importer says so).
 */
export function claimImport(db: Db, folder: string, refresh = false, pid = process.pid): ImportClaim | undefined {
  let root: string;
  try {
    root = fs.realpathSync(folder);
  } catch {
    return undefined;
  }
  return db
    .transaction((): ImportClaim => {
      const existing = checkNotImported(db, root, refresh);
      const stale = db.prepare(`SELECT id FROM datasets WHERE root = ? AND state != 'ready'`).get(root) as
        { id: number } | undefined;
      if (stale) {
        // a killed import's hidden rows: purged in the background (abandonedDatasets), the folder free now
        db.prepare(`UPDATE datasets SET state = 'removing', root = ?, busy_pid = NULL WHERE id = ?`).run(
          `${REMOVING_PREFIX}${stale.id}:${root}`,
          stale.id,
        );
      }
      if (existing) {
        db.prepare('UPDATE datasets SET busy_pid = ? WHERE id = ?').run(pid, existing.id);
        liveClaims.add(existing.id);
        return { root, datasetId: existing.id, fresh: false };
      }
      let id = takeRemovedId(db, root, false) ?? null;
      if (id !== null && db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(id)) {
        const ready = db.prepare(`SELECT 1 FROM datasets WHERE id = ? AND state = 'ready'`).get(id);
        if (!ready) {
          throw new ApiError(
            'conflict',
            `The earlier copy of ${root} (dataset ${id}) is still being removed; import it again in a few seconds.`,
          );
        }
        id = null; // the id was given to another dataset since: the labels stay under the old id
      }
      const info = db
        .prepare(
          `INSERT INTO datasets (id, kind, name, root, annotation_files, fingerprint, summary, imported_at, state, busy_pid)
         VALUES (?, 'coco', ?, ?, '[]', '', '{}', ?, 'importing', ?)`,
        )
        .run(id, path.basename(root), root, now(), pid);
      liveClaims.add(Number(info.lastInsertRowid));
      return { root, datasetId: Number(info.lastInsertRowid), fresh: true };
    })
    .immediate();
}

/** The datasets this process is importing or refreshing now (a busy_pid of this process not in it is stale). */
const liveClaims = new Set<number>();

/**
 * At start-up: claims left by a killed process are given back (a refresh writes in one transaction, so its
 * dataset is intact) and the hidden datasets of killed imports and removals are returned, to be purged.
 */
export function recoverDatasets(db: Db, pid = process.pid): number[] {
  const stale = (r: { busy_pid: number | null; id: number }) =>
    r.busy_pid === null || (r.busy_pid === pid ? !liveClaims.has(r.id) : !processAlive(r.busy_pid));
  const rows = db
    .prepare('SELECT id, state, busy_pid FROM datasets WHERE busy_pid IS NOT NULL OR state != ?')
    .all('ready') as {
    id: number;
    state: string;
    busy_pid: number | null;
  }[];
  const clear = db.prepare('UPDATE datasets SET busy_pid = NULL WHERE id = ?');
  const hide = db.prepare(
    `UPDATE datasets SET state = 'removing', busy_pid = NULL, root = ? || root WHERE id = ? AND state = 'importing'`,
  );
  const purge: number[] = [];
  db.transaction(() => {
    for (const r of rows.filter(stale)) {
      if (r.state === 'ready') clear.run(r.id);
      else {
        hide.run(`${REMOVING_PREFIX}${r.id}:`, r.id);
        purge.push(r.id);
      }
    }
  })();
  return purge;
}

/** Gives a claim back after a failed or cancelled import (a fresh import's rows are purged by then). */
export function releaseClaim(db: Db, claim: ImportClaim): void {
  liveClaims.delete(claim.datasetId);
  if (claim.fresh) db.prepare(`DELETE FROM datasets WHERE id = ? AND state = 'importing'`).run(claim.datasetId);
  else db.prepare('UPDATE datasets SET busy_pid = NULL WHERE id = ?').run(claim.datasetId);
}

/** The datasets this process has stopped importing or refreshing (its rows written, or given back). */
export function settleClaim(datasetId: number): void {
  liveClaims.delete(datasetId);
}

/** The facts an import or refresh records on its dataset row, in the transaction that makes it visible. */
export interface ImportedFacts {
  kind: DatasetKind;
  name: string;
  /** The folder's real path, as the import read it. */
  root: string;
  annotationFiles: string;
  fingerprint: string;
  summary: string;
}

/** Makes a fresh import visible, or records a refresh (which keeps the dataset's name and import time). */
export function recordImport(db: Db, claim: ImportClaim, f: ImportedFacts): void {
  if (claim.fresh) {
    db.prepare(
      `UPDATE datasets SET kind = ?, name = ?, annotation_files = ?, fingerprint = ?, summary = ?, imported_at = ?,
       state = 'ready', busy_pid = NULL WHERE id = ?`,
    ).run(f.kind, f.name, f.annotationFiles, f.fingerprint, f.summary, now(), claim.datasetId);
    takeRemovedId(db, f.root); // the labels kept under this id belong to it again
  } else {
    db.prepare(
      `UPDATE datasets SET kind = ?, annotation_files = ?, fingerprint = ?, summary = ?, refreshed_at = ?, busy_pid = NULL WHERE id = ?`,
    ).run(f.kind, f.annotationFiles, f.fingerprint, f.summary, now(), claim.datasetId);
  }
}

/** Datasets with more rows than this are removed in steps (purgeDataset) instead of in one transaction. */
export const REMOVE_INLINE_ROWS = 20_000;

/**
 * Removes a dataset's rows (never its files). Its labels stay unless the user confirmed deleting them too:
 * the history is append-only, so that one explicit action lifts the guard inside its own transaction.
 * A large dataset is hidden at once (its folder free to import again) and `purge` is true: its rows are
 * deleted afterwards in chunks (purgeDataset), so no one transaction holds the database for seconds.
 */
export function removeDataset(
  db: Db,
  id: number,
  deleteLabels = false,
  inlineRows = REMOVE_INLINE_ROWS,
): { removed: boolean; labelsDeleted: number; purge: boolean } {
  return db.transaction(() => {
    const row = db.prepare(`SELECT root, busy_pid FROM datasets WHERE id = ? AND state = 'ready'`).get(id) as
      { root: string; busy_pid: number | null } | undefined;
    if (!row) return { removed: false, labelsDeleted: 0, purge: false };
    if (row.busy_pid !== null && processAlive(row.busy_pid)) {
      throw new ApiError(
        'conflict',
        `Dataset ${id} is being refreshed right now; remove it when the refresh has finished (or cancel it).`,
      );
    }
    const rows = (
      db
        .prepare(
          `SELECT (SELECT count(*) FROM images WHERE dataset_id = @id) + (SELECT count(*) FROM nlvr2_examples WHERE dataset_id = @id) AS n`,
        )
        .get({ id }) as { n: number }
    ).n;
    const purge = rows > inlineRows;
    if (purge) {
      db.prepare(`UPDATE datasets SET state = 'removing', root = ?, busy_pid = NULL WHERE id = ?`).run(
        `${REMOVING_PREFIX}${id}:${row.root}`,
        id,
      );
    } else {
      db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
    }
    if (!deleteLabels) rememberRemoved(db, row.root, id);
    let labelsDeleted = 0;
    if (deleteLabels) {
      labelsDeleted = deleteDatasetLabels(db, id);
    }
    return { removed: true, labelsDeleted, purge };
  })();
}

/** The root a dataset being removed holds meanwhile (roots are unique; the folder itself is free again). */
export const REMOVING_PREFIX = '\0removing:';

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes a hidden dataset's rows (one being removed, or an import that did not finish) in chunks of
 * committed transactions, then its dataset row. `write` runs each chunk: in the dataset worker, after letting
 * the main thread's queued writes go first; on the main thread, through its WriteGate.
 */
export async function purgeDataset(db: Db, id: number, write: <T>(fn: () => T) => Promise<T> = async (fn) => fn()) {
  const CHUNK = 4000;
  const steps = [
    db.prepare(`DELETE FROM captions WHERE id IN (SELECT id FROM captions WHERE dataset_id = ? LIMIT ${CHUNK})`),
    db.prepare(`DELETE FROM images WHERE id IN (SELECT id FROM images WHERE dataset_id = ? LIMIT ${CHUNK})`),
    db.prepare(
      `DELETE FROM nlvr2_examples WHERE id IN (SELECT id FROM nlvr2_examples WHERE dataset_id = ? LIMIT ${CHUNK})`,
    ),
  ];
  for (const step of steps) {
    while ((await write(() => step.run(id).changes)) > 0);
  }
  await write(() => db.prepare(`DELETE FROM datasets WHERE id = ? AND state != 'ready'`).run(id));
}

/** Hidden datasets whose process is gone (or is this one, just started): left to purge. */
export function abandonedDatasets(db: Db, selfPid = process.pid): number[] {
  return (
    db.prepare(`SELECT id, busy_pid FROM datasets WHERE state != 'ready'`).all() as {
      id: number;
      busy_pid: number | null;
    }[]
  )
    .filter((r) => r.busy_pid === null || r.busy_pid === selfPid || !processAlive(r.busy_pid))
    .map((r) => r.id);
}

const REMOVED_KEY = 'datasets.removed';

/** Folders of removed datasets whose labels were kept, with the dataset id those labels carry. */
function removedRoots(db: Db): Record<string, number> {
  const value = readSetting(db, REMOVED_KEY);
  return value ? (JSON.parse(value) as Record<string, number>) : {};
}

function rememberRemoved(db: Db, root: string, id: number): void {
  writeSetting(db, REMOVED_KEY, JSON.stringify({ ...removedRoots(db), [root]: id }));
}

/**
 * The id a folder had before it was removed with its labels kept: importing it again takes that id back, so
 * its labels (which name the dataset by id) belong to it again. Forgotten once taken (`take`).
 */
export function takeRemovedId(db: Db, root: string, take = true): number | undefined {
  const all = removedRoots(db);
  const id = all[root];
  if (id === undefined || !take) return id;
  delete all[root];
  writeSetting(db, REMOVED_KEY, JSON.stringify(all));
  return id;
}
