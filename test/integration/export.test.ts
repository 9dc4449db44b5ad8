import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { exportDataset } from '../../electron/datasets/export';
import type { Job } from '../../electron/api/schemas';
import { findTorchPython } from '../../scripts/lib.mjs';
import { cocoImages, writeCoco } from './helpers/datasets';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const NLVR2_DEV = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures', 'nlvr2', 'dev.json');
let open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.map((b) => b.close()));
  open = [];
});
function backend() {
  const b = createBackend({ home: tempDir(), mode: 'browser' });
  open.push(b);
  return b;
}

describe('export of a corrected dataset', () => {
  it('writes COCO-Karpathy with edits, moves, additions and removals; re-import gives the corrected dataset', async () => {
    const b = backend();
    const root = tempDir();
    await writeCoco(root, cocoImages(6));
    const before = fs.readFileSync(path.join(root, 'dataset_coco.json'));
    const { datasetId } = await importDataset(b.db, { root }, quiet);
    await b.call('editLabels', {
      edits: [
        { datasetId, kind: 'caption', key: '0', field: 'raw', value: 'A fixed caption, now right.' },
        { datasetId, kind: 'caption', key: '1', field: 'image', value: '5' }, // belongs to image 5
        { datasetId, kind: 'caption', key: '2', field: 'removed', value: true },
        { datasetId, kind: 'caption', key: 'new:a', field: 'raw', value: 'An added caption.' },
        { datasetId, kind: 'caption', key: 'new:a', field: 'image', value: '3' },
        { datasetId, kind: 'pair', key: '7|4', field: 'relation', value: 'hard_negative' },
        { datasetId, kind: 'image', key: '2', field: 'flag', value: 'bad' },
      ],
      author: 'ada',
    });
    const out = path.join(tempDir(), 'coco-fixed');
    const job = (await b.call('startDatasetExport', { datasetId, out })) as Job;
    const done = await b.jobs.wait(job.id);
    expect(done.state, done.error ?? '').toBe('succeeded');
    expect(fs.readFileSync(path.join(root, 'dataset_coco.json'))).toEqual(before); // originals untouched
    const exported = JSON.parse(fs.readFileSync(path.join(out, 'dataset_coco.json'), 'utf8'));
    const img = (id: number) => exported.images.find((i: any) => i.imgid === id);
    expect(img(0).sentences.map((s: any) => s.sentid)).toEqual([0, 3, 4]);
    expect(img(0).sentences[0]).toMatchObject({
      raw: 'A fixed caption, now right.',
      tokens: ['a', 'fixed', 'caption', 'now', 'right'],
    });
    expect(img(5).sentences.at(-1)).toMatchObject({ sentid: 1, imgid: 5 });
    expect(img(5).sentids).toContain(1);
    expect(img(3).sentences.at(-1)).toMatchObject({ raw: 'An added caption.', imgid: 3, sentid: 30 });
    const readme = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(readme).toMatch(/captions edited: 1/);
    expect(readme).toMatch(/hard negatives .*: 1/);
    expect(readme).toMatch(/- images flagged bad: 1/); // flags are judgements: listed, kept in labels.jsonl
    const events = fs
      .readFileSync(path.join(out, 'labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(7);
    expect(events[0]).toMatchObject({ author: 'ada', kind: 'caption', field: 'raw' });
    // re-import: the corrected dataset, images found through the linked folders
    const again = await importDataset(b.db, { root: out }, quiet);
    expect(again.images).toBe(6);
    expect(again.captions).toBe(30); // 30 - 1 removed + 1 added
    expect(again.missingImages).toBe(0);
    const raw = b.db
      .prepare('SELECT raw FROM captions WHERE dataset_id = ? AND sentid = 0')
      .get(again.datasetId) as any;
    expect(raw.raw).toBe('A fixed caption, now right.');
  });

  it('writes Flickr30K-Karpathy (dataset_flickr30k.json) that re-imports with every image found', async () => {
    const b = backend();
    const root = tempDir('mome-synth-');
    execFileSync(findTorchPython()!, ['-m', 'mome', 'synth', '--kind', 'flickr30k', '--size', '10', '--out', root], {
      env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
      stdio: 'ignore',
    });
    const { datasetId, captions } = await importDataset(b.db, { root }, quiet);
    const first = b.db
      .prepare('SELECT sentid, raw FROM captions WHERE dataset_id = ? ORDER BY id LIMIT 1')
      .get(datasetId) as {
      sentid: number;
      raw: string;
    };
    await b.call('editLabels', {
      edits: [
        {
          datasetId,
          kind: 'caption',
          key: String(first.sentid),
          field: 'raw',
          value: 'A corrected Flickr caption.',
          expected: first.raw,
        },
      ],
    });
    const out = path.join(tempDir(), 'flickr-fixed');
    const s = await exportDataset(b.db, b.labels, datasetId, out);
    expect(s.files).toContain('dataset_flickr30k.json');
    const again = await importDataset(b.db, { root: out }, quiet);
    expect(again).toMatchObject({ kind: 'flickr30k', images: 10, captions, missingImages: 0 });
    const row = b.db
      .prepare('SELECT raw FROM captions WHERE dataset_id = ? AND sentid = ?')
      .get(again.datasetId, first.sentid) as { raw: string };
    expect(row.raw).toBe('A corrected Flickr caption.');
  });

  it('Flickr30K with its images beside the json: every image found, and found again through the export', async () => {
    const b = backend();
    const root = tempDir('mome-synth-');
    execFileSync(findTorchPython()!, ['-m', 'mome', 'synth', '--kind', 'flickr30k', '--size', '6', '--out', root], {
      env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
      stdio: 'ignore',
    });
    const folder = ['flickr30k-images', 'images', 'flickr30k_images'].find((d) => fs.existsSync(path.join(root, d)))!;
    for (const f of fs.readdirSync(path.join(root, folder)))
      fs.renameSync(path.join(root, folder, f), path.join(root, f));
    fs.rmdirSync(path.join(root, folder));
    const s = await importDataset(b.db, { root }, quiet);
    expect(s).toMatchObject({ kind: 'flickr30k', images: 6, missingImages: 0 });
    const out = path.join(tempDir(), 'flickr-beside');
    await exportDataset(b.db, b.labels, s.datasetId, out);
    expect(await importDataset(b.db, { root: out }, quiet)).toMatchObject({ images: 6, missingImages: 0 });
  });

  it('COCO with train2014/ and val2014/ under images/: every image found, and found again through the export', async () => {
    const b = backend();
    const root = tempDir();
    await writeCoco(root, cocoImages(8));
    fs.mkdirSync(path.join(root, 'images'));
    for (const d of ['train2014', 'val2014']) fs.renameSync(path.join(root, d), path.join(root, 'images', d));
    const s = await importDataset(b.db, { root }, quiet);
    expect(s.missingImages).toBe(0);
    const row = b.db.prepare('SELECT file FROM images WHERE dataset_id = ? LIMIT 1').get(s.datasetId) as any;
    expect(row.file).toMatch(/^images\/(train|val)2014\/COCO_/);
    const out = path.join(tempDir(), 'coco-under-images');
    await exportDataset(b.db, b.labels, s.datasetId, out);
    expect(await importDataset(b.db, { root: out }, quiet)).toMatchObject({ images: 8, missingImages: 0 });
  });

  it("VLMo's data layouts (karpathy/dataset_coco.json, data/dev.json) import and export as well", async () => {
    const b = backend();
    const coco = tempDir();
    await writeCoco(coco, cocoImages(5));
    fs.mkdirSync(path.join(coco, 'karpathy'));
    fs.renameSync(path.join(coco, 'dataset_coco.json'), path.join(coco, 'karpathy', 'dataset_coco.json'));
    const c = await importDataset(b.db, { root: coco }, quiet);
    expect(c).toMatchObject({ kind: 'coco', images: 5, missingImages: 0 });
    const cout = path.join(tempDir(), 'coco-out');
    await exportDataset(b.db, b.labels, c.datasetId, cout);
    expect(await importDataset(b.db, { root: cout }, quiet)).toMatchObject({ images: 5, missingImages: 0 });

    const nlvr2 = tempDir();
    fs.mkdirSync(path.join(nlvr2, 'data'));
    fs.copyFileSync(NLVR2_DEV, path.join(nlvr2, 'data', 'dev.json'));
    const n = await importDataset(b.db, { root: nlvr2 }, quiet);
    expect(n).toMatchObject({ kind: 'nlvr2', examples: 6982 });
    const nout = path.join(tempDir(), 'nlvr2-out');
    expect((await exportDataset(b.db, b.labels, n.datasetId, nout)).files).toContain('dev.json');
    expect(await importDataset(b.db, { root: nout }, quiet)).toMatchObject({ kind: 'nlvr2', examples: 6982 });
  });

  it('writes NLVR2 json-lines with flipped labels and edited sentences', async () => {
    const b = backend();
    const root = tempDir();
    fs.copyFileSync(NLVR2_DEV, path.join(root, 'dev.json'));
    const { datasetId } = await importDataset(b.db, { root }, quiet);
    await b.call('editLabels', {
      edits: [
        { datasetId, kind: 'nlvr2', key: 'dev-850-0-0', field: 'label', value: true, expected: false },
        { datasetId, kind: 'nlvr2', key: 'dev-850-2-0', field: 'sentence', value: 'A clearer sentence.' },
      ],
    });
    const out = path.join(tempDir(), 'nlvr2-fixed');
    const s = await exportDataset(b.db, b.labels, datasetId, out);
    expect(s.changes).toEqual({ 'nlvr2 labels flipped': 1, 'nlvr2 sentences edited': 1 });
    const again = await importDataset(b.db, { root: out }, quiet);
    expect(again.examples).toBe(6982);
    const row = b.db
      .prepare(`SELECT label FROM nlvr2_examples WHERE dataset_id = ? AND identifier = 'dev-850-0-0'`)
      .get(again.datasetId) as any;
    expect(row.label).toBe(1);
  });

  it('refuses a non-empty target folder or one inside the dataset, leaving nothing behind', async () => {
    const b = backend();
    const root = tempDir();
    await writeCoco(root, cocoImages(2), { withImages: false });
    const { datasetId } = await importDataset(b.db, { root }, quiet);
    const full = tempDir();
    fs.writeFileSync(path.join(full, 'x'), 'x');
    await expect(exportDataset(b.db, b.labels, datasetId, full)).rejects.toThrow(/not empty/);
    await expect(exportDataset(b.db, b.labels, datasetId, path.join(root, 'out'))).rejects.toThrow(
      /outside the original/,
    );
    expect(fs.readdirSync(path.dirname(full)).filter((n) => n.includes('.partial-'))).toEqual([]);
  });
});
