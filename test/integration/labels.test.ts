import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import type { LabelEvent } from '../../electron/api/schemas';
import { cocoImages, writeCoco } from './helpers/datasets';
import { tempDir } from './helpers/temp';

const repoRoot = path.resolve(__dirname, '..', '..');
let open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.map((b) => b.close()));
  open = [];
});
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };

async function setup(home = tempDir()) {
  const b = createBackend({ home, mode: 'browser' });
  open.push(b);
  const root = tempDir();
  await writeCoco(root, cocoImages(10), { withImages: false });
  const ds = await importDataset(b.db, { root }, quiet);
  return { b, home, root, datasetId: ds.datasetId };
}
const caption = (datasetId: number, key: string) => ({ datasetId, kind: 'caption' as const, key });

describe('label history', () => {
  it('records old and new values with provenance and derives the current label', async () => {
    const { b, datasetId } = await setup();
    const [e] = (await b.call('editLabels', {
      edits: [
        {
          ...caption(datasetId, '7'),
          field: 'raw',
          value: 'A corrected caption.',
          expected: 'A photo number 1 showing thing 2.',
        },
      ],
      author: 'ada',
      view: 'browse',
    })) as LabelEvent[];
    expect(e).toMatchObject({
      oldValue: 'A photo number 1 showing thing 2.',
      newValue: 'A corrected caption.',
      author: 'ada',
      view: 'browse',
      action: 'edit',
    });
    expect(b.labels.current(caption(datasetId, '7'), 'raw')).toBe('A corrected caption.');
    const state = (await b.call('getLabelState', { targets: [caption(datasetId, '7')] })) as any[];
    expect(state).toEqual([expect.objectContaining({ field: 'raw', value: 'A corrected caption.', author: 'ada' })]);
  });

  it('refuses bad values and unknown fields, writing nothing (all or nothing)', async () => {
    const { b, datasetId } = await setup();
    await expect(
      b.call('editLabels', {
        edits: [
          { ...caption(datasetId, '1'), field: 'note', value: 'fine' },
          { ...caption(datasetId, '2'), field: 'colour', value: 'red' },
        ],
      }),
    ).rejects.toThrow(/has no field "colour"/);
    await expect(
      b.call('editLabels', { edits: [{ datasetId, kind: 'nlvr2', key: 'dev-1-0-0', field: 'label', value: true }] }),
    ).rejects.toThrow(/no NLVR2 example/);
    await expect(
      b.call('editLabels', { edits: [{ ...caption(datasetId, '1'), field: 'flag', value: 'maybe' }] }),
    ).rejects.toThrow(/flag/);
    await expect(
      b.call('editLabels', { edits: [{ ...caption(datasetId, '1'), field: 'image', value: '12345' }] }),
    ).rejects.toThrow(/no image with imgid 12345/); // a caption moves only to an image of its dataset
    expect((b.db.prepare('SELECT count(*) n FROM label_events').get() as any).n).toBe(0);
  });

  it('never overwrites silently: an edit based on a stale value is a conflict', async () => {
    const { b, home, datasetId } = await setup();
    const other = createBackend({ home, mode: 'browser' }); // a second client on the same database
    open.push(other);
    const original = 'A photo number 0 showing thing 0.';
    await b.call('editLabels', {
      edits: [{ ...caption(datasetId, '0'), field: 'raw', value: 'first edit', expected: original }],
      author: 'ada',
    });
    await expect(
      other.call('editLabels', {
        edits: [{ ...caption(datasetId, '0'), field: 'raw', value: 'second edit', expected: original }],
        author: 'bob',
      }),
    ).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/changed by ada/) });
    expect(other.labels.current(caption(datasetId, '0'), 'raw')).toBe('first edit');
  });

  it('tells other clients of the same backend about edits as they happen', async () => {
    const { b, datasetId } = await setup();
    const seen: unknown[] = [];
    b.events.on('dataChanged', (e) => seen.push(e));
    const [written] = (await b.call('editLabels', {
      edits: [{ ...caption(datasetId, '3'), field: 'flag', value: 'ambiguous' }],
    })) as LabelEvent[];
    // with the event it wrote, so the client that made the edit knows the echo and re-reads only once
    expect(seen).toContainEqual({ entity: 'labels', id: datasetId, labelEventId: written.id });
  });

  it("another process's edits on the same database reach this process's clients", async () => {
    const { b, home, datasetId } = await setup();
    const seen = new Promise((resolve) =>
      b.events.on('dataChanged', (e) => e.entity === 'labels' && e.id === datasetId && resolve(e)),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'helpers', 'label-child.ts'), home, String(datasetId), '1'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await seen; // announced by the watcher: nothing in this process wrote it
      expect(b.labels.current(caption(datasetId, '0'), 'note')).toBe('note 0');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('undo and redo append rows, and work after a restart', async () => {
    const { b, home, datasetId } = await setup();
    const t = caption(datasetId, '4');
    await b.call('editLabels', { edits: [{ ...t, field: 'note', value: 'one' }], author: 'ada' });
    await b.call('editLabels', { edits: [{ ...t, field: 'note', value: 'two' }], author: 'ada' });
    await b.close();
    open = open.filter((x) => x !== b);
    const again = createBackend({ home, mode: 'browser' });
    open.push(again);
    const u = (await again.call('undoLabel', { author: 'ada' })) as LabelEvent;
    expect(u.action).toBe('undo');
    expect(again.labels.current(t, 'note')).toBe('one');
    await again.call('undoLabel', { author: 'ada' });
    expect(again.labels.current(t, 'note')).toBeNull();
    expect(await again.call('undoLabel', { author: 'ada' })).toBeNull(); // nothing left
    await again.call('redoLabel', { author: 'ada' });
    expect(again.labels.current(t, 'note')).toBe('one');
    await again.call('redoLabel', { author: 'ada' });
    expect(again.labels.current(t, 'note')).toBe('two');
    expect(await again.call('redoLabel', { author: 'ada' })).toBeNull();
    // a new edit clears the redo stack
    await again.call('undoLabel', { author: 'ada' });
    await again.call('editLabels', { edits: [{ ...t, field: 'note', value: 'three' }], author: 'ada' });
    expect(await again.call('redoLabel', { author: 'ada' })).toBeNull();
    expect((again.db.prepare('SELECT count(*) n FROM label_events').get() as any).n).toBe(8);
  });

  it('one undo takes back a whole bulk action, one redo brings it back, also after a restart', async () => {
    const { b, home, datasetId } = await setup();
    const keys = ['0', '1', '2', '3', '4'];
    await b.call('editLabels', {
      edits: [{ ...caption(datasetId, '9'), field: 'note', value: 'single' }],
      author: 'ada',
    });
    await b.call('editLabels', {
      edits: keys.map((k) => ({
        datasetId,
        kind: 'image' as const,
        key: k,
        field: 'flag',
        value: 'bad',
        expected: null,
      })),
      author: 'ada',
      view: 'browse-bulk',
    });
    const flags = (x: Backend) => keys.map((k) => x.labels.current({ datasetId, kind: 'image', key: k }, 'flag'));
    expect(flags(b)).toEqual(Array(5).fill('bad'));
    await b.close();
    open = open.filter((x) => x !== b);
    const again = createBackend({ home, mode: 'browser' });
    open.push(again);
    await again.call('undoLabel', { author: 'ada' });
    expect(flags(again)).toEqual(Array(5).fill(null));
    expect(again.labels.current(caption(datasetId, '9'), 'note')).toBe('single'); // the step before is untouched
    await again.call('redoLabel', { author: 'ada' });
    expect(flags(again)).toEqual(Array(5).fill('bad'));
    await again.call('undoLabel', { author: 'ada' });
    await again.call('undoLabel', { author: 'ada' });
    expect(again.labels.current(caption(datasetId, '9'), 'note')).toBeNull();
    expect(await again.call('undoLabel', { author: 'ada' })).toBeNull();
    // 1 + 5 edits, 5 undone, 5 redone, 5 undone again, 1 undone
    expect((again.db.prepare('SELECT count(*) n FROM label_events').get() as any).n).toBe(22);
  });

  it("undo refuses to clobber someone else's later change; revert restores any event's old value", async () => {
    const { b, datasetId } = await setup();
    const t = { datasetId, kind: 'pair' as const, key: '12|2' };
    const [mine] = (await b.call('editLabels', {
      edits: [{ ...t, field: 'relation', value: 'hard_negative' }],
      author: 'ada',
    })) as LabelEvent[];
    await b.call('editLabels', { edits: [{ ...t, field: 'relation', value: 'also_match' }], author: 'bob' });
    await expect(b.call('undoLabel', { author: 'ada' })).rejects.toThrow(/changed since, by bob/);
    const list = (await b.call('listLabelEvents', { datasetId, kind: 'pair' })) as any;
    expect(list.total).toBe(2);
    expect(list.counts).toEqual([{ datasetId, kind: 'pair', field: 'relation', n: 2 }]);
    await b.call('revertLabel', { eventId: list.items[0].id, author: 'carol' });
    expect(b.labels.current(t, 'relation')).toBe('hard_negative');
    void mine;
  });

  it('finds the item a label is about, to open it', async () => {
    const { b, datasetId } = await setup();
    const find = (kind: string, key: string) => b.call('findLabelItem', { datasetId, kind, key }) as Promise<any>;
    expect((await find('image', '3')).image).toMatchObject({ sourceId: '3' });
    expect((await find('caption', '7')).image.captions.map((c: any) => c.sentid)).toContain(7);
    expect((await find('pair', '7|4')).image).toMatchObject({ sourceId: '4' });
    await b.call('editLabels', {
      edits: [
        { datasetId, kind: 'caption', key: 'new:x', field: 'raw', value: 'An added caption.' },
        { datasetId, kind: 'caption', key: 'new:x', field: 'image', value: '5' },
      ],
    });
    expect((await find('caption', 'new:x')).image).toMatchObject({ sourceId: '5' });
    await expect(find('image', '999')).rejects.toThrow(/no item for image 999/);
  });

  it('the history is append-only in the database itself', async () => {
    const { b, datasetId } = await setup();
    await b.call('editLabels', { edits: [{ ...caption(datasetId, '1'), field: 'note', value: 'x' }] });
    expect(() => b.db.prepare('UPDATE label_events SET new_value = 1').run()).toThrow(/append-only/);
    expect(() => b.db.prepare('DELETE FROM label_events').run()).toThrow(/append-only/);
  });

  it('removing a dataset keeps its labels; importing the folder again brings them back', async () => {
    const { b, root, datasetId } = await setup();
    await b.call('editLabels', { edits: [{ ...caption(datasetId, '1'), field: 'note', value: 'keep me' }] });
    await b.call('removeDataset', { id: datasetId });
    expect((b.db.prepare('SELECT count(*) n FROM label_events WHERE dataset_id = ?').get(datasetId) as any).n).toBe(1);
    const other = tempDir(); // another dataset imported meanwhile gets a new id
    await writeCoco(other, cocoImages(3), { withImages: false });
    expect((await importDataset(b.db, { root: other }, quiet)).datasetId).not.toBe(datasetId);
    const again = await importDataset(b.db, { root }, quiet);
    expect(again.datasetId).toBe(datasetId);
    expect(b.labels.current(caption(datasetId, '1'), 'note')).toBe('keep me');
  });

  it('removing a dataset deletes its labels only when the user confirmed it', async () => {
    const { b, datasetId } = await setup();
    await b.call('editLabels', { edits: [{ ...caption(datasetId, '1'), field: 'note', value: 'x' }] });
    expect(await b.call('countLabels', { datasetId })).toEqual({ events: 1 });
    expect(await b.call('removeDataset', { id: datasetId, deleteLabels: true })).toEqual({
      removed: true,
      labelsDeleted: 1,
    });
    expect(await b.call('countLabels', { datasetId })).toEqual({ events: 0 });
    // the guard is back for everything else
    const other = await setup();
    await other.b.call('editLabels', { edits: [{ ...caption(other.datasetId, '1'), field: 'note', value: 'y' }] });
    expect(() => other.b.db.prepare('DELETE FROM label_events').run()).toThrow(/append-only/);
  });

  it('every acknowledged edit survives kill -9, and the database passes integrity_check', async () => {
    const { b, home, datasetId } = await setup();
    await b.close();
    open = [];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'helpers', 'label-child.ts'), home, String(datasetId), '400'],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const acked: number[] = [];
    await new Promise<void>((resolve) => {
      let buf = '';
      child.stdout!.on('data', (d) => {
        buf += d;
        for (const m of buf.matchAll(/ACK (\d+)\n/g)) acked.push(Number(m[1]));
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
        if (acked.length >= 150 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL'); // mid-stream: edits are still being made
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    const again = createBackend({ home, mode: 'browser' });
    open.push(again);
    expect(again.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const ids = new Set((again.db.prepare('SELECT id FROM label_events').all() as { id: number }[]).map((r) => r.id));
    const lost = acked.filter((id) => !ids.has(id));
    expect(lost).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(150);
  });
});
