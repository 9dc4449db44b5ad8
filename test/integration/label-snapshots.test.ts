// Label snapshots: marks into the history (never a copy of the labels), diffed (what changed, by whom) and
// restored as new events in one undoable step; a restore that fails part-way writes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import type { LabelEvent, LabelSnapshot, LabelSnapshotDiff } from '../../electron/api/schemas';
import { cocoImages, writeCoco } from './helpers/datasets';
import { tempDir } from './helpers/temp';

const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
let open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.map((b) => b.close()));
  open = [];
});

async function setup(home = tempDir()) {
  const b = createBackend({ home, mode: 'browser' });
  open.push(b);
  const root = tempDir();
  await writeCoco(root, cocoImages(6), { withImages: false });
  const { datasetId } = await importDataset(b.db, { root }, quiet);
  return { b, datasetId, home };
}
const cap = (datasetId: number, key: string) => ({ datasetId, kind: 'caption' as const, key });
const edit = (b: Backend, author: string, edits: object[]) =>
  b.call('editLabels', { edits, author }) as Promise<LabelEvent[]>;
const snapshot = (b: Backend, datasetId: number, name: string) =>
  b.call('createLabelSnapshot', { datasetId, name, author: 'ada' }) as Promise<LabelSnapshot>;
const diff = (b: Backend, datasetId: number, fromId: number | null, toId: number | null) =>
  b.call('diffLabelSnapshots', { datasetId, fromId, toId }) as Promise<LabelSnapshotDiff>;
const rows = (b: Backend, table: string) =>
  (b.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('label snapshots', () => {
  it('are marks into the history: taking one copies no label', async () => {
    const { b, datasetId } = await setup();
    await edit(b, 'ada', [{ ...cap(datasetId, '0'), field: 'raw', value: 'First fix.' }]);
    const events = rows(b, 'label_events');
    const s = await snapshot(b, datasetId, 'before the big edit');
    expect(s).toMatchObject({ name: 'before the big edit', reason: 'manual', corrections: 1, pendingLeftOut: 0 });
    expect(s.eventMark).toBe(events);
    expect(rows(b, 'label_events')).toBe(events);
    expect(b.db.prepare('SELECT * FROM label_snapshots').get()).not.toHaveProperty('raw');
  });

  it('diff two: what changed and by whom; from the dataset as imported, and up to now', async () => {
    const { b, datasetId } = await setup();
    await edit(b, 'ada', [
      { ...cap(datasetId, '0'), field: 'raw', value: 'First fix.' },
      { ...cap(datasetId, '1'), field: 'image', value: '4' },
    ]);
    const s1 = await snapshot(b, datasetId, 's1');
    await edit(b, 'bob', [
      { ...cap(datasetId, '0'), field: 'raw', value: 'Second fix.' },
      { datasetId, kind: 'pair', key: '3|2', field: 'relation', value: 'also_match' },
    ]);
    await edit(b, 'bob', [{ ...cap(datasetId, '1'), field: 'image', value: '4' }]); // same value: no change
    await edit(b, 'cy', [{ ...cap(datasetId, '2'), field: 'removed', value: true }]);
    await b.call('undoLabel', { author: 'cy' }); // taken back: no change
    const s2 = await snapshot(b, datasetId, 's2');

    const d = await diff(b, datasetId, s1.id, s2.id);
    expect(d.total).toBe(2);
    expect(d.changes.map((c) => [c.kind, c.key, c.field, c.before, c.after, c.author])).toEqual(
      expect.arrayContaining([
        ['caption', '0', 'raw', 'First fix.', 'Second fix.', 'bob'],
        ['pair', '3|2', 'relation', null, 'also_match', 'bob'],
      ]),
    );
    const fromImport = await diff(b, datasetId, null, s1.id);
    expect(fromImport.changes.map((c) => [c.key, c.field, c.before, c.after, c.author])).toEqual(
      expect.arrayContaining([
        ['0', 'raw', 'A photo number 0 showing thing 0.', 'First fix.', 'ada'],
        ['1', 'image', '0', '4', 'ada'],
      ]),
    );
    expect(fromImport.total).toBe(2);
    await edit(b, 'ada', [{ ...cap(datasetId, '5'), field: 'raw', value: 'After s2.' }]);
    expect((await diff(b, datasetId, s2.id, null)).changes.map((c) => c.key)).toEqual(['5']);
    // the other way round: the values swap
    const back = await diff(b, datasetId, s2.id, s1.id);
    expect(back.changes.find((c) => c.key === '0')).toMatchObject({ before: 'Second fix.', after: 'First fix.' });
  });

  it('with review required, a snapshot holds the accepted labels and the diff names who accepted them', async () => {
    const { b, datasetId } = await setup();
    await b.call('setLabelSettings', { reviewRequired: true });
    const s0 = await snapshot(b, datasetId, 's0');
    const [e] = await edit(b, 'ada', [{ ...cap(datasetId, '0'), field: 'raw', value: 'Proposed.' }]);
    const pending = await snapshot(b, datasetId, 'pending');
    expect(pending).toMatchObject({ corrections: 0, pendingLeftOut: 1 });
    expect((await diff(b, datasetId, s0.id, pending.id)).total).toBe(0);
    await b.call('reviewLabel', { eventId: e.id, decision: 'accept', author: 'bob' });
    const accepted = await snapshot(b, datasetId, 'accepted');
    const d = await diff(b, datasetId, pending.id, accepted.id);
    expect(d.changes).toEqual([expect.objectContaining({ after: 'Proposed.', author: 'ada', acceptedBy: 'bob' })]);
  });

  it('restore: the labels equal the snapshot again, as new events that one undo takes back', async () => {
    const { b, datasetId } = await setup();
    await edit(b, 'ada', [{ ...cap(datasetId, '0'), field: 'raw', value: 'Snapshot wording.' }]);
    const s1 = await snapshot(b, datasetId, 's1');
    await edit(b, 'bob', [
      { ...cap(datasetId, '0'), field: 'raw', value: 'Later wording.' },
      { ...cap(datasetId, '1'), field: 'removed', value: true },
      { ...cap(datasetId, 'new:z'), field: 'raw', value: 'An added caption.' },
      { ...cap(datasetId, 'new:z'), field: 'image', value: '2' },
      { datasetId, kind: 'pair', key: '4|1', field: 'relation', value: 'hard_negative' },
    ]);
    const s2 = await snapshot(b, datasetId, 's2');
    const before = rows(b, 'label_events');

    const written = (await b.call('restoreLabelSnapshot', { snapshotId: s1.id, author: 'ada' })) as LabelEvent[];
    expect(written.length).toBe(4); // caption 0's text, caption 1 back, the added caption removed, the pair cleared
    expect(rows(b, 'label_events')).toBe(before + 4); // recorded as new events, nothing rewritten
    expect(written.every((e) => e.view === `restore snapshot ${s1.id}`)).toBe(true);
    // only the caption added since differs: it is there now, removed
    expect(new Set((await diff(b, datasetId, s1.id, null)).changes.map((c) => c.key))).toEqual(new Set(['new:z']));
    expect(b.labels.current(cap(datasetId, '0'), 'raw')).toBe('Snapshot wording.');
    expect(b.labels.current(cap(datasetId, '1'), 'removed')).toBe(false);
    expect(b.labels.current(cap(datasetId, 'new:z'), 'removed')).toBe(true);
    expect(b.labels.current({ datasetId, kind: 'pair', key: '4|1' }, 'relation')).toBeNull();

    // one undo takes the whole restore back
    const undone = (await b.call('undoLabel', { datasetId, author: 'ada' })) as LabelEvent;
    expect(undone.action).toBe('undo');
    expect((await diff(b, datasetId, s2.id, null)).total).toBe(0);
    expect(b.labels.current(cap(datasetId, '0'), 'raw')).toBe('Later wording.');
  });

  it('a restore that fails part-way writes nothing', async () => {
    const { b, datasetId, home } = await setup();
    await edit(b, 'ada', [
      { ...cap(datasetId, '0'), field: 'raw', value: 'Snapshot wording.' },
      { ...cap(datasetId, '1'), field: 'image', value: '5' },
    ]);
    const s1 = await snapshot(b, datasetId, 's1');
    await edit(b, 'ada', [
      { ...cap(datasetId, '0'), field: 'raw', value: 'Later wording.' },
      { ...cap(datasetId, '1'), field: 'image', value: '3' },
    ]);
    // image 5 leaves the dataset (as a refresh from a changed annotation file would): caption 1 cannot go back
    b.db.prepare("DELETE FROM images WHERE dataset_id = ? AND source_id = '5'").run(datasetId);
    const before = rows(b, 'label_events');
    await expect(b.call('restoreLabelSnapshot', { snapshotId: s1.id, author: 'ada' })).rejects.toThrow(/no image/);
    expect(rows(b, 'label_events')).toBe(before);
    expect(b.labels.current(cap(datasetId, '0'), 'raw')).toBe('Later wording.'); // the first edit was rolled back
    // and the database reopens consistent
    await b.close();
    open = open.filter((x) => x !== b);
    const again = createBackend({ home, mode: 'browser' });
    open.push(again);
    expect(rows(again, 'label_events')).toBe(before);
    expect(again.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
