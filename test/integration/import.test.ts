import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import { ImportError } from '../../electron/datasets/errors';
import { importDataset } from '../../electron/datasets/importer';
import { JobCancelled, type JobContext } from '../../electron/jobs/service';
import { cocoImages, writeCoco } from './helpers/datasets';
import { tempDir } from './helpers/temp';

const repoRoot = path.resolve(__dirname, '..', '..');
const NLVR2_DEV = path.join(repoRoot, '..', 'shared', 'fixtures', 'nlvr2', 'dev.json');

const quiet = (): JobContext => {
  const c = new AbortController();
  return { signal: c.signal, progress: () => undefined, throwIfCancelled: () => undefined };
};
let open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.map((b) => b.close()));
  open = [];
});
function backend(): Backend {
  const b = createBackend({ home: tempDir(), mode: 'browser' });
  open.push(b);
  return b;
}
function counts(b: Backend) {
  const one = (sql: string) => (b.db.prepare(sql).get() as { n: number }).n;
  return {
    datasets: one('SELECT count(*) n FROM datasets'),
    images: one('SELECT count(*) n FROM images'),
    captions: one('SELECT count(*) n FROM captions'),
    examples: one('SELECT count(*) n FROM nlvr2_examples'),
  };
}

describe('dataset import', () => {
  it('imports a COCO-Karpathy folder with splits, captions, full-text search and missing files flagged', async () => {
    const b = backend();
    const root = tempDir();
    const images = cocoImages(50);
    await writeCoco(root, images);
    fs.unlinkSync(path.join(root, images[3].filepath!, images[3].filename));
    const s = await importDataset(b.db, { root }, quiet());
    expect(s.kind).toBe('coco');
    expect(s.images).toBe(50);
    expect(s.captions).toBe(250);
    expect(s.splits.test).toEqual({ images: 5, captions: 25 });
    expect(s.missingImages).toBe(1);
    const hit = b.db
      .prepare(
        `SELECT c.raw FROM captions_fts f JOIN captions c ON c.id = f.rowid WHERE captions_fts MATCH 'number AND 17'`,
      )
      .all();
    expect(hit).toHaveLength(5);
    const flagged = b.db.prepare(`SELECT source_id FROM images WHERE flags LIKE '%missing%'`).all();
    expect(flagged).toEqual([{ source_id: '3' }]);
    // the importer indexes in bulk and restores the trigger that indexes later single inserts
    const img = b.db.prepare('SELECT id FROM images LIMIT 1').get() as { id: number };
    b.db
      .prepare('INSERT INTO captions (dataset_id, image_id, sentid, position, raw) VALUES (?, ?, 99999, 9, ?)')
      .run(s.datasetId, img.id, 'zebra crossing');
    expect(b.db.prepare(`SELECT rowid FROM captions_fts WHERE captions_fts MATCH 'zebra'`).all()).toHaveLength(1);
  });

  it('imports the real NLVR2 dev annotations (6,982 examples) with image paths as NLVR2 names them', async () => {
    const b = backend();
    const root = tempDir();
    fs.copyFileSync(NLVR2_DEV, path.join(root, 'dev.json'));
    const s = await importDataset(b.db, { root }, quiet());
    expect(s.kind).toBe('nlvr2');
    expect(s.examples).toBe(6982);
    expect(s.splits.dev).toEqual({ examples: 6982 });
    const ex = b.db.prepare(`SELECT * FROM nlvr2_examples WHERE identifier = 'dev-850-0-0'`).get() as any;
    expect(ex.left_file).toBe('dev/dev-850-0-img0.png');
    expect(ex.right_file).toBe('dev/dev-850-0-img1.png');
    expect(ex.label).toBe(0);
    expect(ex.flags).toContain('left-missing');
    expect(JSON.parse(ex.extra).synset).toBe('beer bottle');
  });

  it('detects a second import of the same folder and refreshes only when asked', async () => {
    const b = backend();
    const root = tempDir();
    await writeCoco(root, cocoImages(10), { withImages: false });
    const first = await importDataset(b.db, { root }, quiet());
    await expect(importDataset(b.db, { root }, quiet())).rejects.toThrow(/already imported as dataset/);
    await writeCoco(root, cocoImages(12), { withImages: false });
    const again = await importDataset(b.db, { root, refresh: true }, quiet());
    expect(again.datasetId).toBe(first.datasetId);
    expect(counts(b)).toEqual({ datasets: 1, images: 12, captions: 60, examples: 0 });
  });

  it('a cancelled import leaves the database unchanged', async () => {
    const b = backend();
    const root = tempDir();
    await writeCoco(root, cocoImages(3000), { withImages: false });
    const c = new AbortController();
    const ctx: JobContext = {
      signal: c.signal,
      progress: (p) => {
        if (p > 0.3) c.abort();
      },
      throwIfCancelled: () => {
        if (c.signal.aborted) throw new JobCancelled();
      },
    };
    await expect(importDataset(b.db, { root }, ctx)).rejects.toBeInstanceOf(JobCancelled);
    expect(counts(b)).toEqual({ datasets: 0, images: 0, captions: 0, examples: 0 });
  });

  const bad: [string, (root: string) => Promise<void> | void, RegExp][] = [
    [
      'malformed JSON',
      (r) => fs.writeFileSync(path.join(r, 'dataset_coco.json'), '{"images": [{"filename": "a.jpg",, }]}'),
      /line 1.*malformed JSON/,
    ],
    [
      'wrong schema',
      (r) =>
        fs.writeFileSync(
          path.join(r, 'dataset_coco.json'),
          JSON.stringify({ images: [{ filename: 'a.jpg', split: 'train' }] }),
        ),
      /images\[0\], field "imgid": the field is missing/,
    ],
    [
      'no images array',
      (r) => fs.writeFileSync(path.join(r, 'dataset_coco.json'), JSON.stringify({ annotations: [] })),
      /no "images" array/,
    ],
    ['0-byte annotation file', (r) => fs.writeFileSync(path.join(r, 'dataset_coco.json'), ''), /empty \(0 bytes\)/],
    [
      'truncated annotation file',
      (r) =>
        fs.writeFileSync(path.join(r, 'dataset_coco.json'), JSON.stringify({ images: cocoImages(3) }).slice(0, 500)),
      /truncated/,
    ],
    [
      'duplicate imgid',
      (r) => {
        const imgs = cocoImages(3);
        imgs[2] = { ...imgs[2], imgid: 0, sentences: imgs[2].sentences.map((s) => ({ ...s, imgid: 0 })) };
        fs.writeFileSync(path.join(r, 'dataset_coco.json'), JSON.stringify({ images: imgs }));
      },
      /duplicate imgid/,
    ],
    [
      'non-UTF-8 bytes',
      (r) => {
        const text = JSON.stringify({ images: cocoImages(2) }).replace('A photo number 1', 'A photo \u0000MARK');
        const buf = Buffer.from(text);
        const at = buf.indexOf('\u0000MARK');
        buf[at] = 0xff;
        fs.writeFileSync(path.join(r, 'dataset_coco.json'), buf);
      },
      /not UTF-8/,
    ],
    [
      '10,000-character caption',
      (r) => {
        const imgs = cocoImages(2);
        imgs[1].sentences[0].raw = 'x'.repeat(10_000);
        fs.writeFileSync(path.join(r, 'dataset_coco.json'), JSON.stringify({ images: imgs }));
      },
      /field "raw": the text is 10000 characters long/,
    ],
    [
      'path escaping the root',
      (r) => {
        const imgs = cocoImages(1);
        imgs[0].filepath = '../../etc';
        fs.writeFileSync(path.join(r, 'dataset_coco.json'), JSON.stringify({ images: imgs }));
      },
      /not a plain relative file name/,
    ],
    [
      'a folder that is not a dataset',
      (r) => fs.writeFileSync(path.join(r, 'readme.txt'), 'hello'),
      /no dataset annotation file found/,
    ],
    [
      'duplicate sentid',
      (r) => {
        const imgs = cocoImages(2);
        imgs[1].sentences[0].sentid = imgs[0].sentences[0].sentid;
        fs.writeFileSync(path.join(r, 'dataset_coco.json'), JSON.stringify({ images: imgs }));
      },
      /imgid 1.*duplicate sentid 0/,
    ],
    [
      'duplicate NLVR2 identifier',
      (r) => {
        const line = (id: string) => JSON.stringify({ identifier: id, sentence: 's', label: 'True' });
        fs.writeFileSync(
          path.join(r, 'dev.json'),
          [line('dev-1-0-0'), line('dev-1-1-0'), line('dev-1-0-0')].join('\n'),
        );
      },
      /dev-1-0-0.*duplicate identifier/,
    ],
    [
      'an annotation file with no images',
      (r) => fs.writeFileSync(path.join(r, 'dataset_coco.json'), JSON.stringify({ images: [], dataset: 'coco' })),
      /no images in the annotation file, so there is nothing to import/,
    ],
    [
      'images without a single caption',
      (r) => {
        const imgs = cocoImages(2, 0);
        fs.writeFileSync(path.join(r, 'dataset_coco.json'), JSON.stringify({ images: imgs }));
      },
      /2 images but not one caption/,
    ],
    [
      'NLVR2 bad label',
      (r) =>
        fs.writeFileSync(path.join(r, 'dev.json'), '{"identifier": "dev-1-0-0", "sentence": "s", "label": "maybe"}\n'),
      /line 1.*field "label"/,
    ],
  ];
  it.each(bad)('refuses %s with file, place and field, and writes nothing', async (_name, make, message) => {
    const b = backend();
    await importDataset(
      b.db,
      {
        root: await (async () => {
          const r = tempDir();
          await writeCoco(r, cocoImages(2), { withImages: false });
          return r;
        })(),
      },
      quiet(),
    );
    const before = counts(b);
    const root = tempDir();
    await make(root);
    const err = await importDataset(b.db, { root }, quiet()).catch((e) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err.message).toMatch(message);
    expect(counts(b)).toEqual(before);
  });

  it('flags zero-byte images and symlinks that leave the root, without failing', async () => {
    const b = backend();
    const root = tempDir();
    const outside = tempDir();
    const images = cocoImages(4);
    await writeCoco(root, images);
    fs.writeFileSync(path.join(root, images[0].filepath!, images[0].filename), '');
    fs.writeFileSync(path.join(outside, 'x.jpg'), 'x');
    const link = path.join(root, images[1].filepath!, images[1].filename);
    fs.unlinkSync(link);
    fs.symlinkSync(path.join(outside, 'x.jpg'), link);
    const s = await importDataset(b.db, { root }, quiet());
    expect(s.flaggedImages).toEqual({ empty: 1, 'outside-root': 1 });
  });
});
