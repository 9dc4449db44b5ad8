// Hardening of datasets (issue "Hardening", items 5 and 7): large imports and removals off the main thread
// with nothing half-written, refreshes that write only what changed, deep browse pages read from an index,
// and bad inputs refused with a sentence and nothing changed — through the real HTTP bridge.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import { startBridge, type Bridge } from '../../electron/bridge/server';
import type { Job } from '../../electron/api/schemas';
import { importDataset } from '../../electron/datasets/importer';
import { browseImages } from '../../electron/datasets/browse';
import { removeDataset } from '../../electron/datasets/repository';
import { Purger } from '../../electron/datasets/purge';
import { prefixWords } from '../../electron/datasets/caption-terms';
import type { JobContext } from '../../electron/jobs/service';
import { gateFor } from '../../electron/store/write-gate';
import { cocoImages, writeCoco } from './helpers/datasets';
import { tempDir } from './helpers/temp';

const quiet = (): JobContext => {
  const c = new AbortController();
  return { signal: c.signal, progress: () => undefined, throwIfCancelled: () => undefined };
};
let open: Backend[] = [];
let bridges: Bridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.map((b) => b.close()));
  await Promise.all(open.map((b) => b.close()));
  open = [];
  bridges = [];
});
function backend(home = tempDir()): Backend {
  const b = createBackend({ home, mode: 'browser' });
  open.push(b);
  return b;
}
const count = (b: Backend, table: string) => (b.db.prepare(`SELECT count(*) n FROM ${table}`).get() as { n: number }).n;
const counts = (b: Backend) => ({
  datasets: count(b, 'datasets'),
  images: count(b, 'images'),
  captions: count(b, 'captions'),
  examples: count(b, 'nlvr2_examples'),
  labels: count(b, 'label_events'),
});

describe('large imports off the main thread', () => {
  it('imports in the worker thread what the main thread imports, with search', async () => {
    const b = backend();
    const [inline, worker] = [tempDir(), tempDir()];
    await writeCoco(inline, cocoImages(300), { withImages: false });
    await writeCoco(worker, cocoImages(300), { withImages: false });
    const a = await importDataset(b.db, { root: inline, thread: 'inline' }, quiet());
    const w = await importDataset(b.db, { root: worker, thread: 'worker' }, quiet());
    expect({ ...w, datasetId: 0, root: '', name: '', seconds: 0 }).toEqual({
      ...a,
      datasetId: 0,
      root: '',
      name: '',
      seconds: 0,
    });
    const page = browseImages(b.db, {
      datasetId: w.datasetId,
      search: 'number 17 showing',
      sort: 'id',
      offset: 0,
      limit: 10,
    });
    expect(page.items.map((i) => i.sourceId)).toEqual(['17']);
    expect(page.items[0].captionCount).toBe(5);
  });

  it('a cancelled import in the worker leaves the database unchanged and the folder importable', async () => {
    const b = backend();
    const root = tempDir();
    // large enough that writing its rows outlasts many of the worker's progress reports (at most one per 50 ms):
    // with 3,000 images an idle machine wrote them all before the cancel arrived
    await writeCoco(root, cocoImages(12000), { withImages: false });
    const before = counts(b);
    const c = new AbortController();
    const ctx: JobContext = {
      signal: c.signal,
      progress: (p) => {
        if (p > 0.85) c.abort(); // at the first report after a chunk of rows was written
      },
      throwIfCancelled: () => undefined,
    };
    await expect(importDataset(b.db, { root, thread: 'worker' }, ctx)).rejects.toThrow(/Cancelled/);
    expect(counts(b)).toEqual(before);
    expect((await importDataset(b.db, { root, thread: 'worker' }, quiet())).images).toBe(12000);
  });

  it('a refresh writes only what changed: unchanged rows keep their ids', async () => {
    const b = backend();
    const root = tempDir();
    const images = cocoImages(20);
    await writeCoco(root, images, { withImages: false });
    const first = await importDataset(b.db, { root }, quiet());
    const ids = () =>
      Object.fromEntries(
        (b.db.prepare('SELECT source_id, id FROM images').all() as { source_id: string; id: number }[]).map((r) => [
          r.source_id,
          r.id,
        ]),
      );
    const before = ids();
    images[3].sentences[1].raw = 'A zebra on a bridge.';
    images.splice(5, 1); // imgid 5 gone
    const added = cocoImages(21)[20];
    images.push({ ...added, sentences: added.sentences.map((s, k) => ({ ...s, sentid: 9000 + k })) });
    await writeCoco(root, images, { withImages: false });
    const again = await importDataset(b.db, { root, refresh: true }, quiet());
    expect(again.datasetId).toBe(first.datasetId);
    const after = ids();
    expect(after['3']).toBe(before['3']);
    expect(after['5']).toBeUndefined();
    expect(after['20']).toBeGreaterThan(Math.max(...Object.values(before)));
    expect(counts(b)).toMatchObject({ images: 20, captions: 100 });
    const hit = browseImages(b.db, { datasetId: first.datasetId, search: 'zebra', sort: 'id', offset: 0, limit: 5 });
    expect(hit.items.map((i) => i.sourceId)).toEqual(['3']);
  });

  it('a large dataset is removed at once and its rows deleted in the background; its folder imports again', async () => {
    const b = backend();
    const root = tempDir();
    await writeCoco(root, cocoImages(400), { withImages: false });
    const s = await importDataset(b.db, { root }, quiet());
    const r = removeDataset(b.db, s.datasetId, false, 100);
    expect(r).toEqual({ removed: true, labelsDeleted: 0, purge: true });
    expect(await b.call('listDatasets', {})).toEqual([]);
    await new Purger(b.db).purge(s.datasetId);
    expect(counts(b)).toMatchObject({ datasets: 0, images: 0, captions: 0 });
    expect(prefixWords(b.db, 'a')).toEqual([]); // the worker wrote the caption index's word list again
    const again = await importDataset(b.db, { root }, quiet());
    expect(again.datasetId).toBe(s.datasetId); // the id its kept labels carry
  });
});

describe('deep browse pages', () => {
  it('every sort reads an index in order (no sort of the whole dataset), with the same rows as a full sort', async () => {
    const b = backend();
    const root = tempDir();
    const images = cocoImages(120);
    images.forEach((img, i) => (img.sentences = img.sentences.slice(0, 1 + (i % 5))));
    await writeCoco(root, images, { withImages: false });
    const s = await importDataset(b.db, { root }, quiet());
    b.db.prepare(`UPDATE images SET flags = 'missing' WHERE id % 7 = 0`).run();
    for (const sort of ['id', 'file', 'captions', 'flags'] as const) {
      for (const split of [undefined, 'train']) {
        const all = browseImages(b.db, { datasetId: s.datasetId, split, sort, offset: 0, limit: 1000 }).items;
        const page = browseImages(b.db, { datasetId: s.datasetId, split, sort, offset: 30, limit: 10 });
        expect(page.items).toEqual(all.slice(30, 40));
      }
    }
    const plans = (sql: string) =>
      (b.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ d: s.datasetId, s: 'train' }) as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
    for (const order of ['i.id', 'i.file, i.id', 'i.caption_count DESC, i.id', "i.flags = '', i.id"]) {
      for (const where of ['i.dataset_id = @d', 'i.dataset_id = @d AND i.split = @s']) {
        expect(plans(`SELECT i.id FROM images i WHERE ${where} ORDER BY ${order} LIMIT 60 OFFSET 100000`)).not.toMatch(
          /TEMP B-TREE/,
        );
      }
    }
  });
});

describe('bad inputs through the HTTP bridge: refused with a sentence, nothing changed', () => {
  async function serve() {
    const b = backend();
    const staticDir = tempDir();
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html>');
    const bridge = await startBridge({ backend: b, staticDir });
    bridges.push(bridge);
    const post = async (method: string, body: string | Buffer) => {
      const res = await fetch(`${bridge.baseUrl}/api/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bridge.token}` },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const api = (method: string, args: unknown) => post(method, JSON.stringify(args));
    const root = tempDir();
    await writeCoco(root, cocoImages(5), { withImages: false });
    const job = (await api('startDatasetImport', { path: root })).body as Job;
    const done = await b.jobs.wait(job.id);
    return { b, api, post, datasetId: (done.result as { datasetId: number }).datasetId };
  }

  it('a folder whose annotation file lists nothing', async () => {
    const { b, api } = await serve();
    const before = counts(b);
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'dataset_coco.json'), '{"images": []}');
    const job = (await api('startDatasetImport', { path: root })).body as Job;
    const done = await b.jobs.wait(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/no images in the annotation file, so there is nothing to import/);
    expect(counts(b)).toEqual(before);
  });

  it('non-UTF-8 bytes in a label value', async () => {
    const { b, post, datasetId } = await serve();
    const before = counts(b);
    const json = JSON.stringify({
      edits: [{ datasetId, kind: 'caption', key: '0', field: 'raw', value: 'A cafe MARK here.' }],
    });
    const body = Buffer.from(json);
    const at = body.indexOf('MARK');
    body[at] = 0xe9; // Latin-1 é: not UTF-8
    const res = await post('editLabels', body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/caption 0, field "raw": the text is not valid UTF-8 .*not stored/);
    const lone = await post(
      'editLabels',
      `{"edits":[{"datasetId":${datasetId},"kind":"caption","key":"0","field":"note","value":"x\\ud800y"}]}`,
    );
    expect(lone.status).toBe(400);
    expect(lone.body.error.message).toMatch(/lone UTF-16 surrogate/);
    expect(counts(b)).toEqual(before);
    // valid text outside ASCII is stored as sent
    const ok = await post('editLabels', Buffer.from(json.replace('MARK', 'é 😀')));
    expect(ok.status).toBe(200);
    expect(b.labels.current({ datasetId, kind: 'caption', key: '0' }, 'raw')).toBe('A cafe é 😀 here.');
  });

  it('two simultaneous imports of one folder', async () => {
    const { b, api } = await serve();
    const root = tempDir();
    await writeCoco(root, cocoImages(2000), { withImages: false });
    const before = counts(b);
    const [first, second] = await Promise.all([
      api('startDatasetImport', { path: root }),
      api('startDatasetImport', { path: root }),
    ]);
    const [ok, refused] = first.status === 200 ? [first, second] : [second, first];
    expect(ok.status).toBe(200);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/is being imported right now; wait for that import to finish/);
    expect(refused.body.error.message).not.toMatch(/UNIQUE|constraint/);
    expect(counts(b)).toEqual({ ...before, datasets: before.datasets + 1 }); // only the claim, hidden
    const done = await b.jobs.wait((ok.body as Job).id);
    expect(done.state).toBe('succeeded');
    expect(counts(b)).toMatchObject({ images: before.images + 2000 });
    // a refresh while another refresh runs is refused the same way
    const [r1, r2] = await Promise.all([
      api('startDatasetImport', { path: root, refresh: true }),
      api('startDatasetImport', { path: root, refresh: true }),
    ]);
    expect([r1.status, r2.status].sort()).toEqual([200, 409]);
    expect((r1.status === 409 ? r1 : r2).body.error.message).toMatch(/is being refreshed right now/);
    await b.jobs.wait(((r1.status === 200 ? r1 : r2).body as Job).id);
  });

  it('a label edit while a worker holds the write lock is queued without blocking the event loop, and lands', async () => {
    const b = backend();
    const root = tempDir();
    await writeCoco(root, cocoImages(20), { withImages: false });
    const s = await importDataset(b.db, { root }, quiet());
    const { sentid } = b.db.prepare('SELECT sentid FROM captions WHERE dataset_id = ? LIMIT 1').get(s.datasetId) as {
      sentid: number;
    };
    const worker = new Database(b.db.name); // as the dataset worker's connection, in the middle of a chunk
    worker.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    let acked = false;
    const edit = b.call('editLabels', {
      edits: [{ datasetId: s.datasetId, kind: 'caption', key: String(sentid), field: 'note', value: 'queued' }],
      author: 'a',
    });
    void edit.then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10); // SQLite's busy wait would have held the event loop for busy_timeout (5 s)
    expect(acked).toBe(false); // acknowledged only once committed
    expect(new Int32Array(gateFor(b.db).shared)[0]).toBe(1); // the worker is asked to leave the lock free
    worker.exec('COMMIT');
    worker.close();
    await edit;
    expect(new Int32Array(gateFor(b.db).shared)[0]).toBe(0);
    expect(count(b, 'label_events')).toBe(1);
    expect(b.db.pragma('busy_timeout', { simple: true })).toBe(5000); // other writes keep waiting as before
  });
});
