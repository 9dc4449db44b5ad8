// Reads of an imported dataset's items for the API: pages of images and NLVR2 examples, one image with its
// captions, the item a label is about, and the caption-length statistics.
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { DatasetStats, ImageDetail, ImageItem, ImagePage, LabelTarget, Nlvr2Example } from '../api/schemas';
import type { Db } from '../store/db';
import { perDb } from '../store/per-db';
import type { ImportSummary, Nlvr2ExampleRow } from './records';
import { startWorker } from '../../model-runtime/src/runtime-paths'; // not index: it runs in the dataset worker too
import { listDatasets, readyDataset } from './repository';
import { prefixWords } from './caption-terms';

const datasetRoot = (db: Db, datasetId: number) => readyDataset(db, datasetId).root;

const searchWords = (text: string) =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 20);

/** A user's search words as an FTS5 query: every word must occur, the last one as a prefix (unless `prefix` is false). */
export function ftsQuery(text: string, prefix = true): string | null {
  const words = searchWords(text);
  if (words.length === 0) return null;
  return words.map((w, i) => `"${w}"${prefix && i === words.length - 1 ? '*' : ''}`).join(' AND ');
}

/**
 * ftsQuery's prefix query with its last word spelled out as the indexed words it starts (caption-terms.ts):
 * the same matches, read lazily. '' when no indexed word starts with it (nothing matches); the plain prefix
 * query when the word list cannot say.
 */
function prefixQuery(db: Db, text: string): string | null {
  const plain = ftsQuery(text);
  const words = searchWords(text);
  const starts = plain ? prefixWords(db, words[words.length - 1]) : null;
  if (!starts) return plain;
  if (starts.length === 0) return '';
  const last = starts.map((t) => `"${t.replace(/"/g, '""')}"`);
  return [...words.slice(0, -1).map((w) => `"${w}"`), last.length === 1 ? last[0] : `(${last.join(' OR ')})`].join(
    ' AND ',
  );
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

/** A caption search counts (and pages through) at most this many matching images. */
export const SEARCH_CAP = 10_000;

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
  searchCap = SEARCH_CAP,
): ImagePage {
  const root = datasetRoot(db, q.datasetId);
  // what the import counted (a refresh counts again): a count(*) over a million images costs 100 ms a page
  const ds = db
    .prepare('SELECT summary, imported_at AS importedAt, refreshed_at AS refreshedAt FROM datasets WHERE id = ?')
    .get(q.datasetId) as { summary: string; importedAt: string; refreshedAt: string | null };
  const summary = JSON.parse(ds.summary) as ImportSummary;
  const version = `${ds.importedAt}|${ds.refreshedAt}`; // a refresh is a new version
  const counted = q.split ? summary.splits[q.split] : { images: summary.images, captions: summary.captions };
  const params = { datasetId: q.datasetId, split: q.split, limit: q.limit, offset: q.offset };
  const order = IMAGE_ORDER[q.sort];
  const search = q.search ? { prefix: prefixQuery(db, q.search), exact: ftsQuery(q.search, false) } : null;
  if (search?.prefix === '') return { total: 0, offset: q.offset, items: [], capped: false };
  if (search?.prefix && search.exact) {
    const part = { captions: counted?.captions ?? 0, version };
    const ids = searchHits(db, q, search as { prefix: string; exact: string }, part, searchCap);
    const capped = ids.slice(0, searchCap);
    // in file order the page is a slice of the ids; another order reads the matching images' keys
    const rows =
      q.sort === 'id'
        ? (db
            .prepare(
              `SELECT ${IMAGE_COLUMNS} FROM json_each(@ids) h CROSS JOIN images i ON i.id = h.value ORDER BY i.id`,
            )
            .all({
              ids: JSON.stringify(capped.sort((a, b) => a - b).slice(q.offset, q.offset + q.limit)),
            }) as ImageRow[])
        : (db
            .prepare(
              `WITH page AS (SELECT i.id FROM json_each(@ids) h CROSS JOIN images i ON i.id = h.value
                             ORDER BY ${order} LIMIT @limit OFFSET @offset)
               SELECT ${IMAGE_COLUMNS} FROM page p CROSS JOIN images i ON i.id = p.id ORDER BY ${order}`,
            )
            .all({ ...params, ids: JSON.stringify(capped) }) as ImageRow[]);
    return {
      total: capped.length,
      offset: q.offset,
      items: rows.map((r) => toImageItem(root, r)),
      capped: ids.length > searchCap,
    };
  }
  const where = ['i.dataset_id = @datasetId'];
  if (q.split) where.push('i.split = @split');
  // in file order a page deep in a large dataset starts from the nearest page already read (its first image id)
  // instead of stepping over every image before it: 20-40 ms at a million images, then well under 1 ms
  const marks = q.sort === 'id' ? pageMarks(db, `${q.datasetId}|${q.split ?? ''}|${version}`) : null;
  const mark = marks ? nearestMark(marks, q.offset) : null;
  if (mark) where.push('i.id >= @markId');
  const rows = db
    .prepare(
      `SELECT ${IMAGE_COLUMNS} FROM images i WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT @limit OFFSET @offset`,
    )
    .all({ ...params, markId: mark?.[1], offset: q.offset - (mark?.[0] ?? 0) }) as ImageRow[];
  if (marks && rows.length) addMark(marks, [q.offset, rows[0].id]);
  return { total: counted?.images ?? 0, offset: q.offset, items: rows.map((r) => toImageItem(root, r)) };
}

/** Per database: by dataset (or split) version, known [position in file order, image id] pairs, ascending. */
const marksCache = new WeakMap<Db, Map<string, [number, number][]>>();

function pageMarks(db: Db, key: string): [number, number][] {
  const cache = perDb(marksCache, db);
  let marks = cache.get(key);
  if (!marks) {
    if (cache.size >= 32) cache.delete(cache.keys().next().value!);
    cache.set(key, (marks = []));
  }
  return marks;
}

/** The last mark at or before `offset` (not the first page's: it saves nothing). */
function nearestMark(marks: [number, number][], offset: number): [number, number] | null {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid][0] <= offset) lo = mid + 1;
    else hi = mid;
  }
  const m = lo > 0 ? marks[lo - 1] : null;
  return m && m[0] > 0 ? m : null;
}

function addMark(marks: [number, number][], mark: [number, number]) {
  let at = marks.findIndex((m) => m[0] >= mark[0]);
  if (at < 0) at = marks.length;
  if (marks[at]?.[0] === mark[0]) return;
  if (marks.length >= 20_000) return; // a page every 50 images of a million: enough
  marks.splice(at, 0, mark);
}

/**
 * The images whose captions match, distinct, in file order, at most `cap` + 1 (one more tells "exactly the cap"
 * from "more"): counting every match would cost as much as the matches (seconds for a common word over millions
 * of captions). One full-text index serves every dataset, so two plans:
 * - the dataset (or split) holds most of the index: read the index in order, joined to the captions, until the
 *   cap; a common word stops early. A prefix term makes FTS5 gather every posting of every word it starts before
 *   the first match comes out, so the words as typed go first, and their matches are the pages when they alone
 *   pass the cap;
 * - a small part of the index (a split, a small dataset beside a large one): the index read only between the
 *   part's lowest and highest caption id (`partBounds`), every match of the part gathered, the first in image
 *   order kept. Where those bounds hold much of the index (a split scattered through it), the matching caption
 *   ids once into a set (SQLite's, with a Bloom filter), then the part's own captions looked up in it.
 * Each matching caption's dataset and image come from the narrow `captions_search` index, not the captions' rows.
 */
function searchHits(
  db: Db,
  q: { datasetId: number; split?: string },
  fts: { prefix: string; exact: string },
  part: { captions: number; version: string },
  cap: number,
): number[] {
  const params = { datasetId: q.datasetId, split: q.split, cap: cap + 1 };
  const indexed = (db.prepare('SELECT max(id) FROM captions').pluck().get() as number | null) ?? 0;
  if (part.captions * 4 < indexed) {
    const within = partBounds(db, q, `${part.version}|${indexed}`);
    if (within.lo === null || within.hi === null) return [];
    if ((within.hi - within.lo + 1) * 4 < indexed) {
      // (the bounds as integers: FTS5 seeks only to an integer rowid bound, and a JS number binds as a real)
      const inBounds = db
        .prepare(
          `SELECT c.image_id FROM captions_fts CROSS JOIN captions c INDEXED BY captions_search ON c.id = captions_fts.rowid
           WHERE captions_fts MATCH @fts AND captions_fts.rowid BETWEEN CAST(@lo AS INTEGER) AND CAST(@hi AS INTEGER)
             AND c.dataset_id = @datasetId`,
        )
        .pluck()
        .all({ datasetId: q.datasetId, fts: fts.prefix, lo: within.lo, hi: within.hi }) as number[];
      const found = new Set(within.images ? inBounds.filter((id) => within.images!.has(id)) : inBounds);
      return [...found].sort((a, b) => a - b).slice(0, cap + 1);
    }
    return db
      .prepare(
        `SELECT DISTINCT c.image_id FROM images s CROSS JOIN captions c ON c.image_id = s.id
         WHERE s.dataset_id = @datasetId ${q.split ? 'AND s.split = @split' : ''}
           AND c.id IN (SELECT rowid FROM captions_fts WHERE captions_fts MATCH @fts)
         ORDER BY s.id LIMIT @cap`,
      )
      .pluck()
      .all({ ...params, fts: fts.prefix }) as number[];
  }
  const hits = db
    .prepare(
      `SELECT DISTINCT c.image_id FROM captions_fts CROSS JOIN captions c INDEXED BY captions_search
         ON c.id = captions_fts.rowid
       ${q.split ? 'CROSS JOIN images s ON s.id = c.image_id AND s.split = @split' : ''}
       WHERE captions_fts MATCH @fts AND c.dataset_id = @datasetId LIMIT @cap`,
    )
    .pluck();
  const exact = hits.all({ ...params, fts: fts.exact }) as number[];
  // (the last word starts no other indexed word: its prefix query is the exact one)
  return exact.length > cap || fts.prefix === fts.exact
    ? exact
    : (hits.all({ ...params, fts: fts.prefix }) as number[]);
}

interface PartBounds {
  /** The lowest and highest caption id of the part's captions (null: it has none). */
  lo: number | null;
  hi: number | null;
  /** The split's image ids, to drop the other splits' captions between the bounds (null: the whole dataset). */
  images: Set<number> | null;
}

/** Per database: the bounds of a dataset's or a split's captions, by dataset version and the index's last id. */
const boundsCache = new WeakMap<Db, Map<string, PartBounds>>();

/**
 * The caption-id bounds of a dataset's (or a split's) captions: one range, as FTS5 reads a prefix term's
 * postings whole once per statement (a statement per range would read them once per range). A fresh import
 * writes each image's captions after it, so a split written in one run is just its own captions.
 */
function partBounds(db: Db, q: { datasetId: number; split?: string }, version: string): PartBounds {
  const cache = perDb(boundsCache, db);
  const key = `${q.datasetId}|${q.split ?? ''}|${version}`;
  const known = cache.get(key);
  if (known) return known;
  const ids = db
    .prepare(
      q.split
        ? 'SELECT id FROM images WHERE dataset_id = ? AND split = ? ORDER BY id'
        : 'SELECT id FROM images WHERE dataset_id = ? ORDER BY id',
    )
    .pluck()
    .all(...(q.split ? [q.datasetId, q.split] : [q.datasetId])) as number[];
  const bounds = db
    .prepare(
      `SELECT min(c.id) AS lo, max(c.id) AS hi FROM json_each(@ids) j CROSS JOIN captions c ON c.image_id = j.value`,
    )
    .get({ ids: JSON.stringify(ids) }) as { lo: number | null; hi: number | null };
  const part: PartBounds = { ...bounds, images: q.split ? new Set(ids) : null };
  if (cache.size >= 32) cache.delete(cache.keys().next().value!);
  cache.set(key, part);
  return part;
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

/** Caption (or NLVR2 sentence) lengths in words, binned by two words, the last bin holding 60 words and more. */
export function lengthHistogram(db: Db, datasetId: number, kind: string): DatasetStats['lengthHistogram'] {
  const binWidth = 2;
  const column = kind === 'nlvr2' ? 'sentence' : 'raw';
  const table = kind === 'nlvr2' ? 'nlvr2_examples' : 'captions';
  // words = spaces + 1 on trimmed text; binned in SQL so the captions never cross into JS
  const rows = db
    .prepare(
      `SELECT min((length(trim(${column})) - length(replace(trim(${column}), ' ', '')) + 1) / ${binWidth}, 30) AS bin, count(*) AS n
       FROM ${table} WHERE dataset_id = ? GROUP BY bin ORDER BY bin`,
    )
    .all(datasetId) as { bin: number; n: number }[];
  const counts = new Array<number>(rows.length ? rows[rows.length - 1].bin + 1 : 0).fill(0);
  for (const r of rows) counts[r.bin] = r.n;
  return { binWidth, counts };
}

/**
 * Above this many captions (or sentences) the histogram is computed in the dataset worker: its scan takes
 * about 1.2 s per million rows, which the event loop must not wait for.
 */
export const STATS_INLINE_ROWS = 50_000;

/** Length histograms per dataset version (the captions change only by a refresh), and those being computed. */
const statsCache = new WeakMap<Db, Map<string, Promise<DatasetStats['lengthHistogram']>>>();

function histogramInWorker(db: Db, datasetId: number, kind: string): Promise<DatasetStats['lengthHistogram']> {
  return new Promise((resolve, reject) => {
    const worker = startWorker('dataset-worker', {
      workerData: { task: 'stats', dbFile: db.name, datasetId, kind },
    });
    // a read on its own connection: it never keeps the app from exiting (at 5M captions it runs for seconds)
    worker.unref();
    let result: DatasetStats['lengthHistogram'] | null = null;
    worker.on('message', (m: { type: string; histogram?: DatasetStats['lengthHistogram']; error?: unknown }) => {
      if (m.type === 'stats') result = m.histogram!;
      else if (m.type === 'error')
        reject(new Error(`Computing the caption lengths failed: ${JSON.stringify(m.error)}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`Computing the caption lengths stopped (exit code ${code}).`)),
    );
  });
}

export async function getDatasetStats(
  db: Db,
  datasetId: number,
  inlineRows = STATS_INLINE_ROWS,
): Promise<DatasetStats> {
  const ds = listDatasets(db).find((d) => d.id === datasetId);
  if (!ds) throw new ApiError('not_found', `There is no dataset ${datasetId}.`);
  const cache = perDb(statsCache, db);
  const key = `${datasetId}|${ds.importedAt}|${ds.refreshedAt}`;
  let histogram = cache.get(key);
  if (!histogram) {
    const rows = ds.kind === 'nlvr2' ? ds.examples : ds.captions;
    histogram =
      rows > inlineRows
        ? histogramInWorker(db, datasetId, ds.kind)
        : Promise.resolve(lengthHistogram(db, datasetId, ds.kind));
    for (const k of cache.keys()) if (k.startsWith(`${datasetId}|`)) cache.delete(k);
    cache.set(key, histogram);
    histogram.catch(() => cache.get(key) === histogram && cache.delete(key)); // a failure is not kept: the next call retries
  }
  return { datasetId, splits: ds.splits, missingImages: ds.missingImages, lengthHistogram: await histogram };
}
