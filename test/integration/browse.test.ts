import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import type { Dataset, Job } from '../../electron/api/schemas';
import { browseImages, ftsQuery, getDatasetStats, lengthHistogram } from '../../electron/datasets/browse';
import { cocoImages, writeCoco } from './helpers/datasets';
import { tempDir } from './helpers/temp';

let b: Backend;
let coco: Dataset;
let nlvr2: Dataset;
const NLVR2_DEV = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures', 'nlvr2', 'dev.json');

async function importVia(root: string): Promise<Dataset> {
  const job = (await b.call('startDatasetImport', { path: root })) as Job;
  const done = await b.jobs.wait(job.id);
  expect(done.state, done.error ?? '').toBe('succeeded');
  return ((await b.call('listDatasets', {})) as Dataset[]).find((d) => d.root === fs.realpathSync(root))!;
}

beforeAll(async () => {
  b = createBackend({ home: tempDir(), mode: 'browser' });
  const root = tempDir();
  await writeCoco(root, cocoImages(40));
  coco = await importVia(root);
  const nroot = tempDir();
  fs.copyFileSync(NLVR2_DEV, path.join(nroot, 'dev.json'));
  nlvr2 = await importVia(nroot);
});
afterAll(() => b.close());

describe('browse', () => {
  it('an import through the API is a job whose dataset is listed and whose folder becomes a media root', async () => {
    expect(coco.kind).toBe('coco');
    expect(coco.images).toBe(40);
    const roots = (await b.call('listMediaRoots', {})) as { path: string }[];
    expect(roots.map((r) => r.path)).toContain(coco.root);
  });

  it('pages images with split filter, search and sort', async () => {
    const page = (await b.call('browseImages', { datasetId: coco.id, limit: 10 })) as any;
    expect(page.total).toBe(40);
    expect(page.items).toHaveLength(10);
    expect(page.items[0].firstCaption).toBe('A photo number 0 showing thing 0.');
    expect(page.items[0].captionCount).toBe(5);
    const test = (await b.call('browseImages', { datasetId: coco.id, split: 'test' })) as any;
    expect(test.total).toBe(4);
    const found = (await b.call('browseImages', { datasetId: coco.id, search: 'number 17' })) as any;
    expect(found.items.map((i: any) => i.sourceId)).toEqual(['17']);
    const detail = (await b.call('getImageItem', { id: found.items[0].id })) as any;
    expect(detail.captions).toHaveLength(5);
    expect(detail.file).toMatch(/^(train|val)2014\/COCO_(train|val)2014_000000100017\.jpg$/);
    expect(detail.path).toBe(path.join(coco.root, detail.file));
  });

  it('counts a caption search only up to its cap, and pages through the first matches in file order', () => {
    const q = { datasetId: coco.id, search: 'photo', sort: 'id' as const, offset: 0, limit: 10 };
    const ids = (p: { items: { sourceId: string }[] }) => p.items.map((i) => Number(i.sourceId));
    const first = browseImages(b.db, q, 25);
    expect(first).toMatchObject({ total: 25, capped: true });
    expect(ids(first)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // the last page of the capped set ends at the cap; past it there is nothing
    expect(ids(browseImages(b.db, { ...q, offset: 20 }, 25))).toEqual([20, 21, 22, 23, 24]);
    expect(browseImages(b.db, { ...q, offset: 25 }, 25).items).toEqual([]);
    // sorted as asked within the capped set (most captions first: all have 5, ties in file order)
    expect(ids(browseImages(b.db, { ...q, sort: 'captions', offset: 15 }, 25))).toEqual([
      15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    ]);
    // exactly the cap is not "more"
    expect(browseImages(b.db, q, 40)).toMatchObject({ total: 40, capped: false });
    // a split filter and several words narrow the matches before they are counted
    expect(browseImages(b.db, { ...q, split: 'test' }, 3)).toMatchObject({ total: 3, capped: true });
    expect(ids(browseImages(b.db, { ...q, split: 'test' }, 25))).toEqual([0, 10, 20, 30]);
    expect(browseImages(b.db, { ...q, search: 'number 17 thing' }, 25)).toMatchObject({ total: 1, capped: false });
    expect(browseImages(b.db, { ...q, search: 'zebra' }, 25)).toMatchObject({ total: 0, capped: false, items: [] });
    // the last word is also a prefix (no word is "phot"), the matches still counted only up to the cap
    expect(browseImages(b.db, { ...q, search: 'phot' }, 25)).toMatchObject({ total: 25, capped: true });
  });

  it('says "10,000+" through the API when a search matches more images than it counts', async () => {
    const root = tempDir();
    await writeCoco(root, cocoImages(10_050), { withImages: false });
    const ds = await importVia(root);
    const page = (await b.call('browseImages', {
      datasetId: ds.id,
      search: 'showing thing',
      offset: 9_990,
      limit: 20,
    })) as any;
    expect(page).toMatchObject({ total: 10_000, capped: true });
    expect(page.items.map((i: any) => i.sourceId)).toEqual(Array.from({ length: 10 }, (_, k) => String(9_990 + k)));
    expect(await b.call('browseImages', { datasetId: ds.id, search: 'number 10049', limit: 5 })).toMatchObject({
      total: 1,
      capped: false,
      items: [{ sourceId: '10049' }],
    });
    // without a search the count is exact and says nothing of a cap
    const all = (await b.call('browseImages', { datasetId: ds.id, limit: 1 })) as any;
    expect(all.total).toBe(10_050);
    expect(all.capped).toBeUndefined();
    await b.call('removeDataset', { id: ds.id });
  });

  it("computes a large dataset's caption-length histogram in the dataset worker, with the same result", async () => {
    const root = tempDir();
    const images = cocoImages(300);
    images[7].sentences[0].raw = 'A much longer caption than the others, of exactly fourteen words in all here.';
    await writeCoco(root, images, { withImages: false });
    const ds = await importVia(root);
    const inline = lengthHistogram(b.db, ds.id, 'coco');
    expect(inline.counts[3]).toBe(1499);
    expect(inline.counts[7]).toBe(1);
    // over the threshold (0 rows here): the event loop turns while the worker scans
    let done = false;
    const stats = getDatasetStats(b.db, ds.id, 0).then((s) => ((done = true), s));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect((await stats).lengthHistogram).toEqual(inline);
    expect(await stats).toMatchObject({ datasetId: ds.id, splits: { test: { images: 30 } } });
    // kept per dataset version: the next call answers from the cache without a worker
    done = false;
    const again = getDatasetStats(b.db, ds.id, 0).then((s) => ((done = true), s));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(true);
    expect((await again).lengthHistogram).toEqual(inline);
  });

  it('turns user text into a safe FTS query', () => {
    expect(ftsQuery('red "bus" OR')).toBe('"red" AND "bus" AND "or"*');
    expect(ftsQuery('  ')).toBeNull();
  });

  it('pages NLVR2 examples with labels and image paths', async () => {
    const page = (await b.call('browseNlvr2', { datasetId: nlvr2.id, limit: 5, search: 'walkway' })) as any;
    expect(page.total).toBeGreaterThan(0);
    expect(page.items[0].sentence).toMatch(/walkway/);
    expect(page.items[0].leftPath).toMatch(/dev\/dev-\d+-\d+-img0\.png$/);
    expect(typeof page.items[0].label).toBe('boolean');
    const found = (await b.call('findLabelItem', { datasetId: nlvr2.id, kind: 'nlvr2', key: 'dev-850-0-0' })) as any;
    expect(found).toMatchObject({ image: null, example: { identifier: 'dev-850-0-0', label: false } });
    // every other published field is kept for the item panel
    expect(Object.keys(page.items[0].extra)).toEqual(
      expect.arrayContaining(['synset', 'query', 'writer', 'validation', 'left_url', 'right_url']),
    );
  });

  it('computes counts and a caption-length histogram per dataset', async () => {
    const stats = (await b.call('getDatasetStats', { datasetId: coco.id })) as any;
    expect(stats.splits.test.images).toBe(4);
    // "A photo number N showing thing K." has 6 words -> bin 3 with width 2
    expect(stats.lengthHistogram.counts[3]).toBe(200);
    const n = (await b.call('getDatasetStats', { datasetId: nlvr2.id })) as any;
    expect(n.lengthHistogram.counts.reduce((a: number, c: number) => a + c, 0)).toBe(6982);
  });

  it('importing the same folder again is refused at once, naming the dataset; a refresh keeps its id', async () => {
    const before = ((await b.call('listDatasets', {})) as Dataset[]).length;
    const err = (await b.call('startDatasetImport', { path: coco.root }).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'conflict', details: { datasetId: coco.id } });
    expect(err.message).toMatch(/already imported as dataset \d+ .*Refresh it/);
    const job = (await b.call('startDatasetImport', { path: coco.root, refresh: true })) as Job;
    const done = await b.jobs.wait(job.id);
    expect(done.state, done.error ?? '').toBe('succeeded');
    expect(done.result).toMatchObject({ datasetId: coco.id, refreshed: true, images: 40 });
    expect(((await b.call('listDatasets', {})) as Dataset[]).length).toBe(before);
  });

  it('cancelling an import job leaves the database unchanged', async () => {
    const root = tempDir();
    await writeCoco(root, cocoImages(20_000), { withImages: false });
    const count = () =>
      (b.db.prepare('SELECT (SELECT count(*) FROM datasets) + (SELECT count(*) FROM images) AS n').get() as any).n;
    const before = count();
    const job = (await b.call('startDatasetImport', { path: root })) as Job;
    const off = b.events.on('jobProgress', (j) => {
      if (j.id === job.id && j.progress > 0) b.jobs.cancel(job.id); // as soon as it has read some records
    });
    const done = await b.jobs.wait(job.id);
    off();
    expect(done.state).toBe('cancelled');
    expect(count()).toBe(before);
    expect(((await b.call('listDatasets', {})) as Dataset[]).some((d) => d.root === fs.realpathSync(root))).toBe(false);
  });

  it('removing a dataset deletes its rows, not its files', async () => {
    const root = tempDir();
    await writeCoco(root, cocoImages(3));
    const ds = await importVia(root);
    expect(await b.call('removeDataset', { id: ds.id })).toEqual({ removed: true, labelsDeleted: 0 });
    expect(fs.existsSync(path.join(root, 'dataset_coco.json'))).toBe(true);
    expect((b.db.prepare('SELECT count(*) n FROM images WHERE dataset_id = ?').get(ds.id) as any).n).toBe(0);
  });
});
