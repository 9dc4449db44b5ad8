// A caption search over a small part of the full-text index (a split, or a small dataset beside a large one) reads
// the index only within the caption-id ranges that hold the part's captions; a page deep in file order starts
// from a page already read. Both must give exactly what the plain definitions give: the first cap + 1 matching
// images of the part in image order (every word in one caption, the last also as a prefix), and the images at
// that offset in id order; also after a refresh moves captions and adds images.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import type { Dataset, Job } from '../../electron/api/schemas';
import Database from 'better-sqlite3';
import { browseImages, ftsQuery } from '../../electron/datasets/browse';
import { prefixWords } from '../../electron/datasets/caption-terms';
import { Purger } from '../../electron/datasets/purge';
import { importDataset } from '../../electron/datasets/importer';
import { openDatabase } from '../../electron/store/db';
import { cocoImages, writeCoco, type KarpathyImage } from './helpers/datasets';
import { tempDir } from './helpers/temp';

const WORDS = ['a', 'dog', 'dogs', 'doghouse', 'cat', 'red', 'bench', 'plate', 'water', 'man', 'riding', 'on'];

/** Seeded captions of 3 to 9 words; the splits interleave (cocoImages') except a contiguous block of test images. */
function images(n: number, seed: number, firstSentid = 0): KarpathyImage[] {
  let rng = seed;
  const rand = () => (rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let sentid = firstSentid;
  return cocoImages(n).map((img, k) => {
    const sentences = img.sentences.map(() => {
      const tokens = Array.from({ length: 3 + Math.floor(rand() * 7) }, () => WORDS[Math.floor(rand() * WORDS.length)]);
      return { raw: `${tokens.join(' ')}.`, tokens, imgid: img.imgid, sentid: sentid++ };
    });
    return {
      ...img,
      split: k >= n / 2 && k < n / 2 + 300 ? 'test' : img.split,
      sentences,
      sentids: sentences.map((s) => s.sentid),
    };
  });
}

let b: Backend;
let small: Dataset;
let smallRoot: string;

async function importVia(root: string, refresh = false): Promise<Dataset> {
  const job = (await b.call('startDatasetImport', { path: root, refresh })) as Job;
  const done = await b.jobs.wait(job.id);
  expect(done.state, done.error ?? '').toBe('succeeded');
  return ((await b.call('listDatasets', {})) as Dataset[]).find((d) => d.root === fs.realpathSync(root))!;
}

/** The plain definition: every matching caption id of the index once, the part's images in id order. */
function expected(datasetId: number, split: string | undefined, text: string, cap: number) {
  const ids = b.db
    .prepare(
      `SELECT DISTINCT s.id FROM images s JOIN captions c ON c.image_id = s.id
       WHERE s.dataset_id = ? AND (? IS NULL OR s.split = ?)
         AND c.id IN (SELECT rowid FROM captions_fts WHERE captions_fts MATCH ?)
       ORDER BY s.id LIMIT ?`,
    )
    .pluck()
    .all(datasetId, split ?? null, split ?? null, ftsQuery(text), cap + 1) as number[];
  return { total: Math.min(ids.length, cap), capped: ids.length > cap, ids: ids.slice(0, cap) };
}

function plainPage(datasetId: number, split: string | undefined, offset: number, limit: number): number[] {
  return b.db
    .prepare(`SELECT id FROM images WHERE dataset_id = ? AND (? IS NULL OR split = ?) ORDER BY id LIMIT ? OFFSET ?`)
    .pluck()
    .all(datasetId, split ?? null, split ?? null, limit, offset) as number[];
}

const QUERIES = ['dog', 'dogs', 'doghouse', 'dog cat', 'red bench plate', 'red bench plate wat', 'do', 'zebra'];

function checkSearches(datasetId: number, splits: (string | undefined)[]) {
  let compared = 0;
  for (const split of splits)
    for (const search of QUERIES)
      for (const cap of [5, 60, 10_000]) {
        const want = expected(datasetId, split, search, cap);
        const q = { datasetId, split, search, sort: 'id' as const, offset: 0, limit: 100 };
        const got = browseImages(b.db, q, cap);
        expect({ total: got.total, capped: got.capped }, `${search} in ${split} (cap ${cap})`).toEqual({
          total: want.total,
          capped: want.capped,
        });
        expect(got.items.map((i) => i.id)).toEqual(want.ids.slice(0, 100));
        const last = browseImages(b.db, { ...q, offset: Math.max(0, want.total - 60) }, cap);
        expect(last.items.map((i) => i.id)).toEqual(want.ids.slice(Math.max(0, want.total - 60)));
        // another order pages the same matching images
        const byCaptions = browseImages(b.db, { ...q, sort: 'captions', offset: 3, limit: 7 }, cap);
        expect(byCaptions.items.map((i) => i.id)).toEqual(want.ids.slice(3, 10));
        compared++;
      }
  return compared;
}

beforeAll(async () => {
  b = createBackend({ home: tempDir(), mode: 'browser' });
  smallRoot = tempDir();
  await writeCoco(smallRoot, images(2_000, 7), { withImages: false });
  small = await importVia(smallRoot);
  // a larger dataset beside it: the small one's captions are under a quarter of the index
  const largeRoot = tempDir();
  await writeCoco(largeRoot, images(7_000, 11), { withImages: false });
  await importVia(largeRoot);
});
afterAll(() => b.close());

describe('caption search over a part of the index', () => {
  it('finds in a split, or in a small dataset, exactly the matches the plain definition finds', () => {
    const indexed = b.db.prepare('SELECT count(*) FROM captions').pluck().get() as number;
    expect(small.captions * 4).toBeLessThan(indexed);
    expect(checkSearches(small.id, [undefined, 'test', 'val', 'restval', 'train', 'nosuchsplit'])).toBe(144);
    // the words must be in one caption, not spread over an image's captions
    const two = browseImages(b.db, { datasetId: small.id, search: 'doghouse riding', sort: 'id', offset: 0, limit: 5 });
    for (const item of two.items) {
      const captions = b.db.prepare('SELECT raw FROM captions WHERE image_id = ?').pluck().all(item.id) as string[];
      expect(captions.some((c) => /\bdoghouse\b/.test(c) && /\briding\b/.test(c))).toBe(true);
    }
  });

  it('a split scattered through a large part of the index: the matching caption ids read once, the same matches', () => {
    const large = b.db.prepare('SELECT max(id) FROM datasets').pluck().get() as number;
    expect(checkSearches(large, ['val'])).toBe(24);
  });

  it('over most of the index: the first cap + 1 images in index order, the words as typed first if they pass the cap', () => {
    const large = b.db.prepare('SELECT max(id) FROM datasets').pluck().get() as number;
    const inOrder = b.db
      .prepare(
        `SELECT c.image_id FROM captions_fts JOIN captions c ON c.id = captions_fts.rowid
         WHERE captions_fts MATCH ? AND c.dataset_id = ? ORDER BY captions_fts.rowid`,
      )
      .pluck();
    const firstImages = (fts: string, cap: number) => {
      const seen = new Set<number>();
      for (const id of inOrder.all(fts, large) as number[]) if (seen.add(id).size > cap) break;
      return [...seen];
    };
    for (const search of QUERIES)
      for (const cap of [5, 60, 10_000]) {
        const exact = firstImages(ftsQuery(search, false)!, cap);
        const ids = exact.length > cap ? exact : firstImages(ftsQuery(search)!, cap);
        const want = ids.slice(0, cap).sort((x, y) => x - y);
        const got = browseImages(b.db, { datasetId: large, search, sort: 'id', offset: 0, limit: 100 }, cap);
        expect({ total: got.total, capped: got.capped }, `${search} (cap ${cap})`).toEqual({
          total: want.length,
          capped: ids.length > cap,
        });
        expect(got.items.map((i) => i.id)).toEqual(want.slice(0, 100));
      }
  });

  it('pages deep in file order, in any order of pages, as OFFSET does', () => {
    const large = b.db.prepare('SELECT max(id) FROM datasets').pluck().get() as number;
    for (const split of [undefined, 'train', 'test'])
      for (const offset of [6_500, 0, 3_001, 6_999, 200, 3_000, 5_000, 4_990, 7_100]) {
        const page = browseImages(b.db, { datasetId: large, split, sort: 'id', offset, limit: 50 });
        expect(
          page.items.map((i) => i.id),
          `${split} at ${offset}`,
        ).toEqual(plainPage(large, split, offset, 50));
      }
  });

  it('after a refresh that moves captions between images and adds images, still finds exactly those', async () => {
    const before = images(2_000, 7);
    // a test image gets a new caption (a new, higher caption id), another image's caption changes, a test image
    // early in file order goes (the test images after it move up one place)
    const t = before.findIndex((img) => img.split === 'test');
    const extra = {
      raw: 'doghouse zebra water.',
      tokens: ['doghouse', 'zebra', 'water'],
      imgid: before[t].imgid,
      sentid: 99_000,
    };
    before[t] = { ...before[t], sentences: [...before[t].sentences, extra], sentids: [...before[t].sentids, 99_000] };
    before[3].sentences[0] = {
      ...before[3].sentences[0],
      raw: 'a zebra on a bench.',
      tokens: ['a', 'zebra', 'on', 'a', 'bench'],
    };
    const added = images(300, 23, 200_000).map((img, k) => ({
      ...img,
      imgid: 5_000 + k,
      cocoid: 500_000 + k,
      filename: `COCO_val2014_${String(500_000 + k).padStart(12, '0')}.jpg`,
      filepath: 'val2014',
      split: 'test',
      sentences: img.sentences.map((s) => ({ ...s, imgid: 5_000 + k })),
    }));
    fs.writeFileSync(
      path.join(smallRoot, 'dataset_coco.json'),
      JSON.stringify({ images: [...before.filter((img) => img.imgid !== 10), ...added] }),
    );
    // search (and page) before the refresh, so that what was read of the old version is at hand
    expect(
      browseImages(b.db, { datasetId: small.id, split: 'test', search: 'zebra', sort: 'id', offset: 0, limit: 5 })
        .total,
    ).toBe(0);
    browseImages(b.db, { datasetId: small.id, split: 'test', sort: 'id', offset: 250, limit: 50 });
    const refreshed = await importVia(smallRoot, true);
    expect(refreshed.images).toBe(2_299);
    const zebra = browseImages(b.db, {
      datasetId: small.id,
      split: 'test',
      search: 'zebra',
      sort: 'id',
      offset: 0,
      limit: 5,
    });
    expect(zebra.items.map((i) => i.sourceId)).toEqual([String(before[t].imgid)]);
    expect(checkSearches(small.id, [undefined, 'test', 'train'])).toBe(72);
    for (const offset of [250, 0, 500, 590])
      expect(
        browseImages(b.db, { datasetId: small.id, split: 'test', sort: 'id', offset, limit: 50 }).items.map(
          (i) => i.id,
        ),
      ).toEqual(plainPage(small.id, 'test', offset, 50));
  });
});

describe('the words of the caption index', () => {
  /** Writes a caption on the small dataset's first image (of `split`) outside an import; returns that image's id. */
  function captionOutsideImport(sentid: number, position: number, raw: string, split?: string): number {
    const imageId = b.db
      .prepare(`SELECT min(id) FROM images WHERE dataset_id = ? AND (? IS NULL OR split = ?)`)
      .pluck()
      .get(small.id, split ?? null, split ?? null) as number;
    b.db
      .prepare('INSERT INTO captions (dataset_id, image_id, sentid, position, raw) VALUES (?, ?, ?, ?, ?)')
      .run(small.id, imageId, sentid, position, raw);
    return imageId;
  }

  it('a prefix is read as the indexed words it starts while the list is current; else FTS5 expands it, alike', async () => {
    expect(prefixWords(b.db, 'do')).toEqual(['dog', 'doghouse', 'dogs']);
    expect(prefixWords(b.db, 'zeb')).toEqual(['zebra']); // written by the refresh
    expect(prefixWords(b.db, 'qu')).toEqual([]);
    expect(prefixWords(b.db, 'café')).toBeNull(); // the tokenizer folds it: the list's order is not its order
    expect(browseImages(b.db, { datasetId: small.id, search: 'red qu', sort: 'id', offset: 0, limit: 5 })).toEqual({
      total: 0,
      offset: 0,
      items: [],
      capped: false,
    });
    // a caption written outside an import: the list is older than the index, so it is not used
    const imageId = captionOutsideImport(999_999, 9, 'a zebroid on a bench.', 'test');
    expect(prefixWords(b.db, 'zeb')).toBeNull();
    const zebro = browseImages(b.db, { datasetId: small.id, search: 'zebro', sort: 'id', offset: 0, limit: 5 });
    expect(zebro.items.map((i) => i.id)).toEqual([imageId]);
    expect(checkSearches(small.id, [undefined, 'test'])).toBe(48);
    // the next import writes the list again
    const root = tempDir();
    await writeCoco(root, images(30, 3), { withImages: false });
    await importVia(root);
    expect(prefixWords(b.db, 'zeb')).toEqual(['zebra', 'zebroid']);
    expect(checkSearches(small.id, ['test'])).toBe(24);
  });

  it('an import in the dataset worker writes the list again', async () => {
    captionOutsideImport(999_998, 10, 'a quokka on a bench.');
    expect(prefixWords(b.db, 'qu')).toBeNull();
    const root = tempDir();
    await writeCoco(root, images(20, 5), { withImages: false });
    const c = new AbortController();
    const ctx = { signal: c.signal, progress: () => undefined, throwIfCancelled: () => undefined };
    await importDataset(b.db, { root, thread: 'worker' }, ctx);
    expect(prefixWords(b.db, 'qu')).toEqual(['quokka']);
  });

  it('a removal takes its words off the list: at once for a small dataset, by the dataset worker otherwise', async () => {
    const root = tempDir();
    const withWombats = images(12, 9, 50_000).map((img) => ({
      ...img,
      sentences: img.sentences.map((x) => ({ ...x, raw: `a wombat ${x.raw}`, tokens: ['a', 'wombat', ...x.tokens] })),
    }));
    await writeCoco(root, withWombats, { withImages: false });
    const wombats = await importVia(root);
    expect(prefixWords(b.db, 'wom')).toEqual(['wombat']);
    await b.call('removeDataset', { id: wombats.id, deleteLabels: false });
    expect(prefixWords(b.db, 'wom')).toEqual([]);
    expect(prefixWords(b.db, 'do')).toEqual(['dog', 'doghouse', 'dogs']);
    // the list the main thread leaves old (a large index): the dataset worker writes it
    captionOutsideImport(999_997, 11, 'a womble on a bench.');
    expect(prefixWords(b.db, 'wom')).toBeNull();
    await new Purger(b.db).terms();
    expect(prefixWords(b.db, 'wom')).toEqual(['womble']);
  });

  it('the migration that adds the list fills it from the index already there', () => {
    const file = path.join(tempDir(), 'copy.sqlite');
    b.db.exec(`VACUUM INTO '${file}'`);
    const old = new Database(file);
    // back to version 10: without the word list (11) and the evaluation runs' writing state (12)
    old.exec(`DROP TABLE caption_terms; DROP TABLE caption_terms_state;
      ALTER TABLE eval_runs DROP COLUMN state; ALTER TABLE eval_runs DROP COLUMN busy_pid; PRAGMA user_version = 10`);
    old.close();
    const db = openDatabase(file);
    try {
      expect(prefixWords(db, 'do')).toEqual(['dog', 'doghouse', 'dogs']);
      expect(prefixWords(db, 'zeb')).toEqual(['zebra', 'zebroid']);
    } finally {
      db.close();
    }
  });
});
