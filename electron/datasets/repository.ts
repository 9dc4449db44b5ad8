// Reads of imported datasets for the API.
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { Dataset, DatasetStats, ImageDetail, ImageItem, Nlvr2Example } from '../api/schemas';
import type { Db } from '../store/db';
import type { ImportSummary } from './importer';

interface DatasetRow {
  id: number;
  kind: Dataset['kind'];
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

/** A user's search words as an FTS5 query: every word must occur, the last one as a prefix. */
export function ftsQuery(text: string): string | null {
  const words = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 20);
  if (words.length === 0) return null;
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' AND ');
}

function datasetRoot(db: Db, datasetId: number): string {
  const row = db.prepare(`SELECT root FROM datasets WHERE id = ? AND state = 'ready'`).get(datasetId) as
    { root: string } | undefined;
  if (!row) throw new ApiError('not_found', `There is no dataset ${datasetId}.`);
  return row.root;
}

const flagList = (f: string) => (f ? f.split(',') : []);

interface ImageRow {
  id: number;
  dataset_id: number;
  source_id: string;
  cocoid: number | null;
  split: string;
  file: string;
  flags: string;
  first: string | null;
  n: number;
}

const IMAGE_COLUMNS = `i.id, i.dataset_id, i.source_id, i.cocoid, i.split, i.file, i.flags,
  (SELECT raw FROM captions c WHERE c.image_id = i.id ORDER BY position LIMIT 1) AS first,
  i.caption_count AS n`;

function toImageItem(root: string, r: ImageRow): ImageItem {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    sourceId: r.source_id,
    cocoid: r.cocoid,
    split: r.split,
    file: r.file,
    path: path.join(root, r.file),
    flags: flagList(r.flags),
    firstCaption: r.first,
    captionCount: r.n,
  };
}

const IMAGE_ORDER = {
  id: 'i.id',
  file: 'i.file, i.id',
  captions: 'i.caption_count DESC, i.id',
  flags: "i.flags = '', i.id",
} as const;

export function browseImages(
  db: Db,
  q: {
    datasetId: number;
    split?: string;
    search?: string;
    sort: keyof typeof IMAGE_ORDER;
    offset: number;
    limit: number;
  },
): { total: number; offset: number; items: ImageItem[] } {
  const root = datasetRoot(db, q.datasetId);
  const where = ['i.dataset_id = @datasetId'];
  const fts = q.search ? ftsQuery(q.search) : null;
  if (q.split) where.push('i.split = @split');
  if (fts)
    where.push(
      'i.id IN (SELECT c.image_id FROM captions c JOIN captions_fts f ON f.rowid = c.id WHERE captions_fts MATCH @fts)',
    );
  const params = { datasetId: q.datasetId, split: q.split, fts, limit: q.limit, offset: q.offset };
  const total = (
    db.prepare(`SELECT count(*) AS n FROM images i WHERE ${where.join(' AND ')}`).get(params) as { n: number }
  ).n;
  const rows = db
    .prepare(
      `SELECT ${IMAGE_COLUMNS} FROM images i WHERE ${where.join(' AND ')} ORDER BY ${IMAGE_ORDER[q.sort]} LIMIT @limit OFFSET @offset`,
    )
    .all(params) as ImageRow[];
  return { total, offset: q.offset, items: rows.map((r) => toImageItem(root, r)) };
}

export function getImageItem(db: Db, id: number): ImageDetail {
  const row = db.prepare(`SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.id = ?`).get(id) as ImageRow | undefined;
  if (!row) throw new ApiError('not_found', `There is no image ${id}.`);
  const captions = db
    .prepare('SELECT id, sentid, position, raw FROM captions WHERE image_id = ? ORDER BY position')
    .all(id) as ImageDetail['captions'];
  return { ...toImageItem(datasetRoot(db, row.dataset_id), row), captions };
}

interface ExampleRow {
  id: number;
  dataset_id: number;
  identifier: string;
  split: string;
  sentence: string;
  label: number | null;
  left_file: string;
  right_file: string;
  flags: string;
  extra: string;
}

export function browseNlvr2(
  db: Db,
  q: { datasetId: number; split?: string; search?: string; offset: number; limit: number; id?: number },
): { total: number; offset: number; items: Nlvr2Example[] } {
  const root = datasetRoot(db, q.datasetId);
  const where = ['dataset_id = @datasetId'];
  if (q.id !== undefined) where.push('id = @id');
  if (q.split) where.push('split = @split');
  if (q.search) where.push(`sentence LIKE @like ESCAPE '\\'`);
  const params = {
    datasetId: q.datasetId,
    split: q.split,
    like: `%${(q.search ?? '').replace(/[\\%_]/g, '\\$&')}%`,
    id: q.id,
    limit: q.limit,
    offset: q.offset,
  };
  const total = (
    db.prepare(`SELECT count(*) AS n FROM nlvr2_examples WHERE ${where.join(' AND ')}`).get(params) as { n: number }
  ).n;
  const rows = db
    .prepare(`SELECT * FROM nlvr2_examples WHERE ${where.join(' AND ')} ORDER BY id LIMIT @limit OFFSET @offset`)
    .all(params) as ExampleRow[];
  return {
    total,
    offset: q.offset,
    items: rows.map((r) => ({
      id: r.id,
      datasetId: r.dataset_id,
      identifier: r.identifier,
      split: r.split,
      sentence: r.sentence,
      label: r.label === null ? null : r.label === 1,
      leftPath: path.join(root, r.left_file),
      rightPath: path.join(root, r.right_file),
      flags: flagList(r.flags),
      extra: JSON.parse(r.extra) as Record<string, unknown>,
    })),
  };
}

/**
 * The item a label is about, to open it: an image (by imgid), the image of a caption (by sentid; an added
 * caption: the image it was added on), the image of a judged pair ("sentid|imgid"), or an NLVR2 example.
 */
export function findLabelItem(
  db: Db,
  t: { datasetId: number; kind: 'caption' | 'image' | 'nlvr2' | 'pair'; key: string },
  addedOn?: string,
): { image: ImageDetail | null; example: Nlvr2Example | null } {
  const imageBy = (sql: string, arg: unknown) => {
    const row = db.prepare(sql).get(t.datasetId, arg) as { id: number } | undefined;
    return row ? getImageItem(db, row.id) : null;
  };
  const bySource = 'SELECT id FROM images WHERE dataset_id = ? AND source_id = ?';
  if (t.kind === 'nlvr2') {
    const row = db
      .prepare('SELECT id FROM nlvr2_examples WHERE dataset_id = ? AND identifier = ?')
      .get(t.datasetId, t.key) as { id: number } | undefined;
    if (!row) throw new ApiError('not_found', `Dataset ${t.datasetId} has no NLVR2 example ${t.key}.`);
    const page = browseNlvr2(db, {
      datasetId: t.datasetId,
      offset: 0,
      limit: 1,
      search: undefined,
      split: undefined,
      id: row.id,
    });
    return { image: null, example: page.items[0] };
  }
  const image =
    t.kind === 'image'
      ? imageBy(bySource, t.key)
      : t.kind === 'pair'
        ? imageBy(bySource, t.key.split('|')[1])
        : t.key.startsWith('new:')
          ? imageBy(bySource, addedOn ?? '')
          : imageBy('SELECT image_id AS id FROM captions WHERE dataset_id = ? AND sentid = ?', Number(t.key));
  if (!image) throw new ApiError('not_found', `Dataset ${t.datasetId} has no item for ${t.kind} ${t.key}.`);
  return { image, example: null };
}

/** Length histograms per dataset version: the captions of an imported dataset change only by a refresh. */
const statsCache = new WeakMap<Db, Map<string, DatasetStats['lengthHistogram']>>();

export function getDatasetStats(db: Db, datasetId: number): DatasetStats {
  const ds = listDatasets(db).find((d) => d.id === datasetId);
  if (!ds) throw new ApiError('not_found', `There is no dataset ${datasetId}.`);
  let cache = statsCache.get(db);
  if (!cache) statsCache.set(db, (cache = new Map()));
  const key = `${datasetId}|${ds.importedAt}|${ds.refreshedAt}`;
  let lengthHistogram = cache.get(key);
  if (!lengthHistogram) {
    const binWidth = 2;
    const column = ds.kind === 'nlvr2' ? 'sentence' : 'raw';
    const table = ds.kind === 'nlvr2' ? 'nlvr2_examples' : 'captions';
    // words = spaces + 1 on trimmed text; binned in SQL so 600K captions never cross into JS
    const rows = db
      .prepare(
        `SELECT min((length(trim(${column})) - length(replace(trim(${column}), ' ', '')) + 1) / ${binWidth}, 30) AS bin, count(*) AS n
       FROM ${table} WHERE dataset_id = ? GROUP BY bin ORDER BY bin`,
      )
      .all(datasetId) as { bin: number; n: number }[];
    const counts = new Array<number>(rows.length ? rows[rows.length - 1].bin + 1 : 0).fill(0);
    for (const r of rows) counts[r.bin] = r.n;
    lengthHistogram = { binWidth, counts };
    for (const k of cache.keys()) if (k.startsWith(`${datasetId}|`)) cache.delete(k);
    cache.set(key, lengthHistogram);
  }
  return { datasetId, splits: ds.splits, missingImages: ds.missingImages, lengthHistogram };
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
      db.exec('DROP TRIGGER label_events_no_delete');
      labelsDeleted = db.prepare('DELETE FROM label_events WHERE dataset_id = ?').run(id).changes;
      db.exec(`CREATE TRIGGER label_events_no_delete BEFORE DELETE ON label_events BEGIN
        SELECT RAISE(ABORT, 'label history is append-only');
      END;`);
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
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(REMOVED_KEY) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as Record<string, number>) : {};
}

function rememberRemoved(db: Db, root: string, id: number): void {
  db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(REMOVED_KEY, JSON.stringify({ ...removedRoots(db), [root]: id }));
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
  db.prepare('UPDATE settings SET value = ? WHERE key = ?').run(JSON.stringify(all), REMOVED_KEY);
  return id;
}
