// The imported items of a dataset as the rest of the backend reads them: a split's images and captions, one
// image, caption or NLVR2 example by the id the dataset gives it, and counts. Together with the importer (which
// writes these rows), browse.ts (pages for the browser) and repository.ts (removal), this is the only code that
// runs SQL on images, captions, captions_fts and nlvr2_examples; a join of eval_items with these tables belongs
// to eval/items.ts, the owner on the higher floor.
import type { ImportedItems } from '../labels/history';
import type { Db } from '../store/db';
import type { Nlvr2ExampleRow } from './records';

/** The split value that means every split of the dataset (the label-error ranking looks at all of them). */
export const ALL_SPLITS = '*';

export interface SplitImage {
  id: number;
  source_id: string;
  file: string;
  split: string;
}

export interface SplitCaption {
  sentid: number;
  raw: string;
  image_id: number;
}

export type Nlvr2ExampleFields = Pick<
  Nlvr2ExampleRow,
  'identifier' | 'split' | 'sentence' | 'label' | 'left_file' | 'right_file'
>;

/** The images of a split (or of every split with ALL_SPLITS), in import order. */
export function splitImages(db: Db, datasetId: number, split: string): SplitImage[] {
  return db
    .prepare(
      `SELECT id, source_id, file, split FROM images WHERE dataset_id = @datasetId AND (@split = '${ALL_SPLITS}' OR split = @split) ORDER BY id`,
    )
    .all({ datasetId, split }) as SplitImage[];
}

/** Every caption of the dataset as imported, in import order, with its image's row id. */
export function importedCaptions(db: Db, datasetId: number): SplitCaption[] {
  return db
    .prepare(
      `SELECT c.sentid, c.raw, c.image_id FROM captions c JOIN images i ON i.id = c.image_id
       WHERE i.dataset_id = @datasetId ORDER BY c.id`,
    )
    .all({ datasetId }) as SplitCaption[];
}

/** The dataset's captions as imported after row `afterId`, in import order, `limit` of them: importedCaptions in pages. */
export function importedCaptionPage(
  db: Db,
  datasetId: number,
  afterId: number,
  limit: number,
): (SplitCaption & { id: number })[] {
  return db
    .prepare(
      `SELECT c.id, c.sentid, c.raw, c.image_id FROM captions c JOIN images i ON i.id = c.image_id
       WHERE i.dataset_id = @datasetId AND c.id > @afterId ORDER BY c.id LIMIT @limit`,
    )
    .all({ datasetId, afterId, limit }) as (SplitCaption & { id: number })[];
}

/** How many captions the dataset has as imported. */
export function importedCaptionCount(db: Db, datasetId: number): number {
  return db.prepare('SELECT count(*) FROM captions WHERE dataset_id = ?').pluck().get(datasetId) as number;
}

/** Each image's row id → its imgid (the id the dataset gives it). */
export function imageSourceIds(db: Db, datasetId: number): Map<number, string> {
  const rows = db.prepare('SELECT id, source_id FROM images WHERE dataset_id = ?').all(datasetId) as {
    id: number;
    source_id: string;
  }[];
  return new Map(rows.map((r) => [r.id, r.source_id]));
}

/** The names of the dataset's image splits, sorted. */
export function imageSplits(db: Db, datasetId: number): string[] {
  return db
    .prepare('SELECT DISTINCT split FROM images WHERE dataset_id = ? ORDER BY split')
    .pluck()
    .all(datasetId) as string[];
}

/** How many images a split has and the newest row id: a refresh adds rows, so this changes with it. */
export function splitImageStamp(db: Db, datasetId: number, split: string): { n: number; last: number | null } {
  return db
    .prepare('SELECT count(*) AS n, max(id) AS last FROM images WHERE dataset_id = ? AND (? = ? OR split = ?)')
    .get(datasetId, split, ALL_SPLITS, split) as { n: number; last: number | null };
}

/** An image's file (relative to the dataset folder) by its row id, if it is one of the dataset's. */
export function imageFile(db: Db, datasetId: number, imageId: number): string | undefined {
  const row = db.prepare('SELECT file FROM images WHERE id = ? AND dataset_id = ?').get(imageId, datasetId) as
    { file: string } | undefined;
  return row?.file;
}

export function hasImage(db: Db, datasetId: number, sourceId: string): boolean {
  return (
    db.prepare('SELECT 1 FROM images WHERE dataset_id = ? AND source_id = ?').get(datasetId, sourceId) !== undefined
  );
}

/** A caption's text and its image's imgid as imported. */
export function importedCaption(
  db: Db,
  datasetId: number,
  sentid: number,
): { raw: string; source_id: string } | undefined {
  return db
    .prepare(
      `SELECT c.raw, i.source_id FROM captions c JOIN images i ON i.id = c.image_id WHERE c.dataset_id = ? AND c.sentid = ?`,
    )
    .get(datasetId, sentid) as { raw: string; source_id: string } | undefined;
}

/** The imported text of each of the given captions, by sentid (one statement for many). */
export function captionTexts(db: Db, datasetId: number, sentids: number[]): Map<number, string> {
  const rows = db
    .prepare(`SELECT sentid, raw FROM captions WHERE dataset_id = ? AND sentid IN (SELECT value FROM json_each(?))`)
    .all(datasetId, JSON.stringify(sentids)) as { sentid: number; raw: string }[];
  return new Map(rows.map((r) => [r.sentid, r.raw]));
}

/** The captions imported on one image, and those with the given sentids (moved to it), in import order. */
export function imageCaptionRows(db: Db, datasetId: number, imageId: number, sentids: number[]): SplitCaption[] {
  // two indexed reads (an OR of the two would scan the dataset's captions)
  return db
    .prepare(
      `SELECT sentid, raw, image_id FROM (
         SELECT id, sentid, raw, image_id FROM captions WHERE image_id = @imageId AND dataset_id = @datasetId
         UNION
         SELECT id, sentid, raw, image_id FROM captions
         WHERE dataset_id = @datasetId AND sentid IN (SELECT value FROM json_each(@sentids))
       ) ORDER BY id`,
    )
    .all({ datasetId, imageId, sentids: JSON.stringify(sentids) }) as SplitCaption[];
}

export function nlvr2Example(db: Db, datasetId: number, identifier: string): Nlvr2ExampleFields | undefined {
  return db
    .prepare(
      'SELECT identifier, split, sentence, label, left_file, right_file FROM nlvr2_examples WHERE dataset_id = ? AND identifier = ?',
    )
    .get(datasetId, identifier) as Nlvr2ExampleFields | undefined;
}

/** The NLVR2 examples of a split (or of every split with ALL_SPLITS), in import order. */
export function splitNlvr2Examples(db: Db, datasetId: number, split: string): Omit<Nlvr2ExampleFields, 'split'>[] {
  return db
    .prepare(
      `SELECT identifier, sentence, label, left_file, right_file FROM nlvr2_examples
       WHERE dataset_id = @datasetId AND (@split = '${ALL_SPLITS}' OR split = @split) ORDER BY id`,
    )
    .all({ datasetId, split }) as Omit<Nlvr2ExampleFields, 'split'>[];
}

/** Lookups prepared once, for callers that look up many items in a loop. */
export function itemLookups(db: Db) {
  const imageBySource = db.prepare(
    'SELECT id, source_id, file, split FROM images WHERE dataset_id = ? AND source_id = ?',
  );
  const imageById = db.prepare('SELECT id, source_id, file, split FROM images WHERE id = ?');
  const captionBySentid = db.prepare('SELECT sentid, raw, image_id FROM captions WHERE dataset_id = ? AND sentid = ?');
  const captionText = db.prepare('SELECT raw FROM captions WHERE dataset_id = ? AND sentid = ?').pluck();
  const imageFileBySource = db.prepare('SELECT file FROM images WHERE dataset_id = ? AND source_id = ?').pluck();
  const sentence = db.prepare('SELECT sentence FROM nlvr2_examples WHERE dataset_id = ? AND identifier = ?').pluck();
  return {
    imageBySource: (datasetId: number, sourceId: string) =>
      imageBySource.get(datasetId, sourceId) as SplitImage | undefined,
    imageById: (id: number) => imageById.get(id) as SplitImage | undefined,
    captionBySentid: (datasetId: number, sentid: number) =>
      captionBySentid.get(datasetId, sentid) as SplitCaption | undefined,
    /** The text a person reads for an item: a caption's text, an image's file, an NLVR2 sentence. */
    text(datasetId: number, kind: 'caption' | 'image' | 'nlvr2', key: string): string | null {
      const stmt = kind === 'caption' ? captionText : kind === 'image' ? imageFileBySource : sentence;
      const v = stmt.get(datasetId, kind === 'caption' ? Number(key) : key) as unknown;
      return v === undefined ? null : String(v);
    },
  };
}

/** Captions whose image is in one of the splits, or NLVR2 examples in one of them: what a fine-tune trains on. */
export function countInSplits(
  db: Db,
  datasetId: number,
  what: 'captions' | 'nlvr2',
  splits: readonly string[],
): number {
  const marks = splits.map(() => '?').join(', ');
  const sql =
    what === 'nlvr2'
      ? `SELECT count(*) AS n FROM nlvr2_examples WHERE dataset_id = ? AND split IN (${marks})`
      : `SELECT count(*) AS n FROM captions c JOIN images i ON i.id = c.image_id WHERE c.dataset_id = ? AND i.split IN (${marks})`;
  return (db.prepare(sql).get(datasetId, ...splits) as { n: number }).n;
}

/** The largest sentid of the dataset's captions (0 when it has none): captions a user adds are numbered after it. */
export function largestSentid(db: Db, datasetId: number): number {
  return (
    (db.prepare('SELECT max(sentid) AS m FROM captions WHERE dataset_id = ?').get(datasetId) as { m: number | null })
      .m ?? 0
  );
}

/** The reads the label history needs (labels/ sits below datasets/ and cannot import this module). */
export function importedItems(db: Db): ImportedItems {
  return {
    caption: (datasetId, sentid) => importedCaption(db, datasetId, sentid),
    nlvr2Example: (datasetId, identifier) => nlvr2Example(db, datasetId, identifier),
    hasImage: (datasetId, sourceId) => hasImage(db, datasetId, sourceId),
  };
}
