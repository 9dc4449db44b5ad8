// Reads of an imported dataset's items for the API: pages of images and NLVR2 examples, one image with its
// captions, the item a label is about, and the caption-length statistics.
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { DatasetStats, ImageDetail, ImageItem, LabelTarget, Nlvr2Example } from '../api/schemas';
import type { Db } from '../store/db';
import type { Nlvr2ExampleRow } from './records';
import { listDatasets, readyDataset } from './repository';

const datasetRoot = (db: Db, datasetId: number) => readyDataset(db, datasetId).root;

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
    .all(params) as Nlvr2ExampleRow[];
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
  t: LabelTarget,
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
