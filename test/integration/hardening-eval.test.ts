// Hardening of evaluation and export: a symlink leading out of the dataset folder is not read (the media
// route's rule), and a 16,000 x 16,000 PNG (a few hundred KB on disk, 768 MB decoded) is refused by the
// pixel limit. Both, like a corrupt file, are reported per item and the run goes on.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { exportDataset } from '../../electron/datasets/export';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation } from '../../electron/eval/run-eval';
import { realPathInside } from '../../electron/media/roots';
import { decodeRgb, MAX_INPUT_PIXELS } from '../../model-runtime/src/image/preprocess';
import { defaultModelDir } from '../../electron/backend/assets';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
afterAll(() => backend.close());
const model = defaultModelDir();

let hugePng: Buffer;
let outside: string;
let secretImage: string;

function copyDataset(name: string): string {
  const root = path.join(tempDir('mome-hardening-'), name);
  fs.cpSync(path.join(repo, 'assets', 'datasets', name), root, { recursive: true });
  return root;
}

/** Replaces three files of `files` (relative to root): a link out of the folder, a huge PNG, a corrupt file. */
function plantBadImages(root: string, files: string[]) {
  const [linked, huge, corrupt] = files;
  fs.rmSync(path.join(root, linked));
  fs.symlinkSync(secretImage, path.join(root, linked));
  fs.writeFileSync(path.join(root, huge), hugePng);
  fs.writeFileSync(path.join(root, corrupt), Buffer.from('not an image at all'));
}

/** Runs `fn` while sampling this process's resident memory; returns its result and the peak growth (bytes). */
async function peakRss<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const value = await fn();
    return { value, growth: Math.max(peak, process.memoryUsage().rss) - base };
  } finally {
    clearInterval(timer);
  }
}

beforeAll(async () => {
  hugePng = await sharp({ create: { width: 16000, height: 16000, channels: 3, background: '#3366cc' } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  outside = tempDir('mome-outside-');
  secretImage = path.join(outside, 'secret.png');
  fs.writeFileSync(
    secretImage,
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer(),
  );
}, 120_000);

describe('the pixel limit', () => {
  it('is 40 megapixels and refuses a 16,000 x 16,000 PNG from its header, naming the file and its size', async () => {
    expect(MAX_INPUT_PIXELS).toBe(40_000_000);
    expect(hugePng.length).toBeLessThan(2_000_000); // a few hundred KB on disk
    const file = path.join(tempDir(), 'huge.png');
    fs.writeFileSync(file, hugePng);
    const { value, growth } = await peakRss(() => decodeRgb(file).catch((e: Error) => e));
    expect(value).toBeInstanceOf(Error);
    expect((value as Error).name).toBe('ImageDecodeError');
    expect((value as Error).message).toMatch(
      /Cannot read image .*huge\.png: 16000 × 16000 is 256 megapixels, over the limit of 40 megapixels/,
    );
    expect(growth).toBeLessThan(100 * 1024 * 1024);
    // at the limit an image still decodes
    const ok = await decodeRgb(
      await sharp({ create: { width: 4000, height: 2500, channels: 3, background: '#000' } })
        .png()
        .toBuffer(),
    );
    expect(ok.width * ok.height).toBe(10_000_000);
  }, 60_000);
});

describe('the dataset-folder rule', () => {
  it('resolves files inside the folder and refuses links and ".." out of it', async () => {
    const root = tempDir('mome-rule-');
    fs.writeFileSync(path.join(root, 'a.png'), 'x');
    fs.symlinkSync(secretImage, path.join(root, 'out.png'));
    fs.symlinkSync(outside, path.join(root, 'outdir'));
    fs.symlinkSync(path.join(root, 'a.png'), path.join(root, 'in.png'));
    expect(await realPathInside(root, 'a.png')).toBe(fs.realpathSync(path.join(root, 'a.png')));
    expect(await realPathInside(root, 'in.png')).toBe(fs.realpathSync(path.join(root, 'a.png')));
    await expect(realPathInside(root, 'out.png')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(realPathInside(root, 'outdir/secret.png')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(realPathInside(root, `../${path.basename(outside)}/secret.png`)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(realPathInside(root, 'missing.png')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe.skipIf(!model)('evaluation with a link out of the folder, a huge and a corrupt image', () => {
  it('retrieval (with ITM re-ranking) reports the three images, scores the rest, and stays small', async () => {
    const root = copyDataset('coco-sample');
    const coco = JSON.parse(fs.readFileSync(path.join(root, 'dataset_coco.json'), 'utf8')) as {
      images: { split: string; filepath: string; filename: string; imgid: number }[];
    };
    const test = coco.images.filter((i) => i.split === 'test');
    plantBadImages(
      root,
      test.slice(0, 3).map((i) => path.join(i.filepath, i.filename)),
    );
    const { datasetId } = await importDataset(backend.db, { root }, quiet);
    const { value: result, growth } = await peakRss(() =>
      runEvaluation(
        backend.db,
        { task: 'retrieval', modelDir: model!, datasetId, split: 'test', k: 10, rerankK: 3, device: 'cpu', cacheDir },
        quiet,
      ),
    );
    expect(result.counts).toMatchObject({ images: 20, unreadableImages: 3 });
    const reasons = Object.fromEntries(result.unreadable.map((u) => [u.item, u.reason]));
    const id = (i: number) => String(test[i].imgid);
    expect(reasons[id(0)]).toBe('outside the dataset folder');
    expect(reasons[id(1)]).toMatch(/16000 × 16000 is 256 megapixels, over the limit of 40 megapixels/);
    expect(reasons[id(2)]).toMatch(/Cannot read image .*COCO_/);
    expect(Number.isFinite((result.metrics as { tr_r1: number }).tr_r1)).toBe(true);
    expect(result.counts.rerankedPairs).toBeGreaterThan(0);
    // sharp's default limit let this image take the process from 150 MB to over 1 GB
    expect(growth).toBeLessThan(400 * 1024 * 1024);
  }, 180_000);

  it('NLVR2 leaves the examples of the three images out of the accuracy and reports them', async () => {
    const root = copyDataset('nlvr2-sample');
    const dev = fs
      .readFileSync(path.join(root, 'dev.json'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { identifier: string });
    const image = (id: string) => path.join('dev', `${id.split('-').slice(0, 3).join('-')}-img0.png`);
    const bad = [dev[0], dev[5], dev[10]].map((e) => e.identifier);
    plantBadImages(root, bad.map(image));
    const { datasetId } = await importDataset(backend.db, { root }, quiet);
    const result = await runEvaluation(
      backend.db,
      { task: 'nlvr2', modelDir: model!, datasetId, split: 'dev', device: 'cpu', cacheDir },
      quiet,
    );
    // every example sharing a planted image (an NLVR2 image pair serves several statements) is reported
    const reported = new Map(result.unreadable.map((u) => [u.item, u.reason]));
    for (const id of bad) expect(reported.has(id), id).toBe(true);
    expect(reported.get(bad[0])).toMatch(/leads outside the dataset folder/);
    expect(reported.get(bad[1])).toMatch(/over the limit of 40 megapixels/);
    expect(reported.get(bad[2])).toMatch(/Cannot read image/);
    expect(result.counts.unreadableExamples).toBe(reported.size);
    expect(result.counts.labelled).toBe(dev.length - reported.size);
    const items = (await backend.call('getEvalItems', { runId: result.runId, kind: 'nlvr2', limit: 100 })) as {
      items: { key: string; rank: number | null; score: number | null }[];
    };
    const row = items.items.find((i) => i.key === bad[0])!;
    expect(row.rank).toBeNull();
    expect(row.score).toBeNull();
  }, 180_000);
});

describe('export', () => {
  it('does not link an image folder that leads out of the dataset folder, and says so', async () => {
    const root = copyDataset('coco-sample');
    const { datasetId } = await importDataset(backend.db, { root }, quiet);
    // after the import, val2014 becomes a link to a folder elsewhere
    const elsewhere = path.join(outside, 'val2014');
    fs.renameSync(path.join(root, 'val2014'), elsewhere);
    fs.symlinkSync(elsewhere, path.join(root, 'val2014'));
    const out = path.join(tempDir(), 'export');
    await exportDataset(backend.db, backend.labels, datasetId, out);
    expect(fs.existsSync(path.join(out, 'train2014'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'val2014'))).toBe(false);
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toMatch(
      /Not linked, as they lead outside the dataset folder: val2014\./,
    );
  }, 60_000);

  it('refuses an annotation file that is a link out of the dataset folder', async () => {
    const root = copyDataset('nlvr2-sample');
    const { datasetId } = await importDataset(backend.db, { root }, quiet);
    const elsewhere = path.join(tempDir(), 'dev.json');
    fs.renameSync(path.join(root, 'dev.json'), elsewhere);
    fs.symlinkSync(elsewhere, path.join(root, 'dev.json'));
    const out = path.join(tempDir(), 'export');
    await expect(exportDataset(backend.db, backend.labels, datasetId, out)).rejects.toThrow(
      /annotation file dev\.json is a link leading outside the dataset folder/,
    );
    expect(fs.existsSync(out)).toBe(false);
  }, 60_000);
});
