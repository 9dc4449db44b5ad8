// Adjudication of corrections: with "corrections need review" on, a correction is pending until someone else
// accepts it; exports and a fine-tune's label input hold only what is in force, and say what they left out.
// Agreement between authors is Cohen's kappa, checked against a hand-computed case.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { datasetInfo } from '../../electron/datasets/repository';
import { prepareFineTune } from '../../electron/finetune/job';
import { defaults } from '../../electron/finetune/preview';
import { cohensKappa } from '../../electron/labels/adjudication';
import type {
  FineTunePreview,
  LabelAgreement,
  LabelEvent,
  LabelField,
  LabelSettings,
  LabelSnapshot,
} from '../../electron/api/schemas';
import { cocoImages, writeCoco } from './helpers/datasets';
import { tempDir } from './helpers/temp';

const NLVR2_DEV = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures', 'nlvr2', 'dev.json');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
let open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.map((b) => b.close()));
  open = [];
});

async function coco() {
  const b = createBackend({ home: tempDir(), mode: 'browser' });
  open.push(b);
  const root = tempDir();
  await writeCoco(root, cocoImages(6), { withImages: false });
  const { datasetId } = await importDataset(b.db, { root }, quiet);
  return { b, datasetId };
}

type Fields = { total: number; counts: Record<string, number>; items: LabelField[] };
const fields = (b: Backend, datasetId: number, state?: string) =>
  b.call('listLabelFields', { datasetId, ...(state ? { state } : {}) }) as Promise<Fields>;

/** The exported COCO json's captions by sentid. */
function exportedCaptions(out: string): Map<number, { raw: string; imgid: number }> {
  const json = JSON.parse(fs.readFileSync(path.join(out, 'dataset_coco.json'), 'utf8')) as {
    images: { imgid: number; sentences: { sentid: number; raw: string }[] }[];
  };
  return new Map(json.images.flatMap((im) => im.sentences.map((s) => [s.sentid, { raw: s.raw, imgid: im.imgid }])));
}

async function exportTo(b: Backend, datasetId: number) {
  const out = path.join(tempDir(), 'export');
  const job = (await b.call('startDatasetExport', { datasetId, out })) as { id: number };
  const done = await b.jobs.wait(job.id);
  expect(done.state, done.error ?? '').toBe('succeeded');
  return { out, result: done.result as { pendingLeftOut: number; changes: Record<string, number> } };
}

describe('corrections that need review', () => {
  it('is off by default: corrections are in force at once, as before', async () => {
    const { b, datasetId } = await coco();
    const s = (await b.call('getLabelSettings', {})) as LabelSettings;
    expect(s.reviewRequired).toBe(false);
    await b.call('editLabels', {
      edits: [{ datasetId, kind: 'caption', key: '0', field: 'raw', value: 'A fixed caption.' }],
      author: 'ada',
    });
    expect((await fields(b, datasetId)).counts).toMatchObject({ pending: 0, unreviewed: 1 });
    const { out, result } = await exportTo(b, datasetId);
    expect(result.pendingLeftOut).toBe(0);
    expect(exportedCaptions(out).get(0)!.raw).toBe('A fixed caption.');
  });

  it('keeps a correction pending until someone else accepts or rejects it; exports hold 0 pending ones', async () => {
    const { b, datasetId } = await coco();
    await b.call('setLabelSettings', { reviewRequired: true, userName: 'ada' });
    // written under the app's user name, which the setting holds
    const written = (await b.call('editLabels', {
      edits: [
        { datasetId, kind: 'caption', key: '0', field: 'raw', value: 'A fixed caption.' },
        { datasetId, kind: 'caption', key: '1', field: 'image', value: '5' },
        { datasetId, kind: 'caption', key: '2', field: 'raw', value: 'Another fix.' },
        { datasetId, kind: 'pair', key: '7|4', field: 'relation', value: 'hard_negative' },
        { datasetId, kind: 'image', key: '2', field: 'flag', value: 'bad' }, // a flag is no correction
      ],
    })) as LabelEvent[];
    expect(written.map((e) => e.author)).toEqual(['ada', 'ada', 'ada', 'ada', 'ada']);
    expect(written.map((e) => e.review ?? null)).toEqual(['required', 'required', 'required', 'required', null]);
    expect((await fields(b, datasetId)).counts).toEqual({ pending: 4, accepted: 0, rejected: 0, unreviewed: 1 });

    // the export with review required: nothing pending in it, and it says how many it left out
    let { out, result } = await exportTo(b, datasetId);
    expect(result.pendingLeftOut).toBe(4);
    let caps = exportedCaptions(out);
    expect(caps.get(0)!.raw).toBe('A photo number 0 showing thing 0.');
    expect(caps.get(1)!.imgid).toBe(0);
    expect(caps.get(2)!.raw).toBe('A photo number 0 showing thing 2.');
    const pendingIds = new Set(written.filter((e) => e.review).map((e) => e.id));
    const exportedEvents = fs
      .readFileSync(path.join(out, 'labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LabelEvent);
    expect(exportedEvents.filter((e) => pendingIds.has(e.id))).toEqual([]);
    expect(exportedEvents.map((e) => e.field)).toEqual(['flag']);
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toMatch(/awaiting review, left out .*: 4/);

    // the author cannot accept their own correction
    await expect(b.call('reviewLabel', { eventId: written[0].id, decision: 'accept' })).rejects.toThrow(
      /someone else reviews it/,
    );
    // bob accepts the caption fix and the move, and rejects the other fix
    await b.call('reviewLabel', { eventId: written[0].id, decision: 'accept', author: 'bob' });
    await b.call('reviewLabel', { eventId: written[1].id, decision: 'accept', author: 'bob' });
    const rejected = (await b.call('reviewLabel', {
      eventId: written[2].id,
      decision: 'reject',
      author: 'bob',
      note: 'the original was right',
    })) as { event: LabelEvent };
    // a rejection restores the value in force, as an event of its own
    expect(rejected.event).toMatchObject({ action: 'revert', newValue: 'A photo number 0 showing thing 2.' });
    expect(b.labels.current({ datasetId, kind: 'caption', key: '2' }, 'raw')).toBe('A photo number 0 showing thing 2.');
    const all = await fields(b, datasetId);
    expect(all.counts).toEqual({ pending: 1, accepted: 2, rejected: 1, unreviewed: 1 });
    const pending = await fields(b, datasetId, 'pending');
    expect(pending.items.map((f) => [f.kind, f.key, f.field, f.event.author])).toEqual([
      ['pair', '7|4', 'relation', 'ada'],
    ]);
    const accepted = await fields(b, datasetId, 'accepted');
    expect(accepted.items.every((f) => f.decisions[0].author === 'bob')).toBe(true);

    ({ out, result } = await exportTo(b, datasetId));
    expect(result.pendingLeftOut).toBe(1);
    caps = exportedCaptions(out);
    expect(caps.get(0)!.raw).toBe('A fixed caption.');
    expect(caps.get(1)!.imgid).toBe(5);
    expect(caps.get(2)!.raw).toBe('A photo number 0 showing thing 2.');
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toMatch(/hard negatives .*: 0/);

    // a correction is decided only as the field's newest event: a later edit supersedes it
    const [later] = (await b.call('editLabels', {
      edits: [{ datasetId, kind: 'caption', key: '0', field: 'raw', value: 'A third wording.' }],
    })) as LabelEvent[];
    await expect(b.call('reviewLabel', { eventId: written[0].id, decision: 'reject', author: 'cy' })).rejects.toThrow(
      new RegExp(`review that one`),
    );
    expect(later.review).toBe('required');
  });

  it("a fine-tune's label input holds only accepted corrections, and its snapshot counts the pending ones", async () => {
    const { b, datasetId } = await coco();
    await b.call('setLabelSettings', { reviewRequired: true });
    const written = (await b.call('editLabels', {
      edits: [
        { datasetId, kind: 'caption', key: '10', field: 'raw', value: 'Accepted wording.' },
        { datasetId, kind: 'caption', key: '11', field: 'raw', value: 'Pending wording.' },
        { datasetId, kind: 'pair', key: '10|3', field: 'relation', value: 'hard_negative' },
        { datasetId, kind: 'pair', key: '11|4', field: 'relation', value: 'also_match' },
      ],
      author: 'ada',
    })) as LabelEvent[];
    await b.call('reviewLabel', { eventId: written[0].id, decision: 'accept', author: 'bob' });
    await b.call('reviewLabel', { eventId: written[2].id, decision: 'accept', author: 'bob' });

    const preview = (await b.call('previewFineTune', { datasetId })) as FineTunePreview;
    expect(preview.counts).toMatchObject({ corrections: 1, hardNegatives: 1, extraPositives: 0, pendingLeftOut: 2 });
    expect(preview.summary).toMatch(/2 awaiting review left out/);

    const dir = tempDir();
    const ds = datasetInfo(b.db, datasetId);
    const base = { id: null, name: 'base', dir: tempDir() };
    await prepareFineTune({ db: b.db, labels: b.labels }, dir, 4242, ds, base, defaults('retrieval', null));
    const caps = exportedCaptions(path.join(dir, 'data'));
    expect(caps.get(10)!.raw).toBe('Accepted wording.');
    expect(caps.get(11)!.raw).toBe('A photo number 2 showing thing 1.');
    const pairs = fs
      .readFileSync(path.join(dir, 'pairs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(pairs).toEqual([{ sentid: 10, imgid: 3, relation: 'hard_negative' }]);
    // the snapshot taken for it: what the model saw, and what it left out
    const snaps = (await b.call('listLabelSnapshots', { datasetId })) as LabelSnapshot[];
    expect(snaps).toHaveLength(1);
    expect(snaps[0]).toMatchObject({ reason: 'finetune', finetuneJobId: 4242, corrections: 2, pendingLeftOut: 2 });
    const job = JSON.parse(fs.readFileSync(path.join(dir, 'job.json'), 'utf8'));
    expect(job.parent.label_snapshot).toBe(snaps[0].id);
  });
});

describe("agreement between authors (Cohen's kappa)", () => {
  it('matches a hand-computed case', () => {
    // ada: T T T T T T F F F F; bob: T T T T F F F F F T. Observed 7/10; chance 0.6*0.5 + 0.4*0.5 = 0.5;
    // kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    const ada = 'TTTTTTFFFF'.split('');
    const bob = 'TTTTFFFFFT'.split('');
    const k = cohensKappa(ada.map((a, i) => [a, bob[i]]));
    expect(k.items).toBe(10);
    expect(k.observed).toBeCloseTo(0.7, 12);
    expect(k.expected).toBeCloseTo(0.5, 12);
    expect(k.kappa).toBeCloseTo(0.4, 12);
    // three categories: 2x2 agreement table by hand. a: x x y y z z, b: x y y y z x:
    // observed 4/6; chance: x (2/6)(2/6) + y (2/6)(3/6) + z (2/6)(1/6) = (4 + 6 + 2) / 36 = 1/3
    const k3 = cohensKappa([
      ['x', 'x'],
      ['x', 'y'],
      ['y', 'y'],
      ['y', 'y'],
      ['z', 'z'],
      ['z', 'x'],
    ]);
    expect(k3.kappa).toBeCloseTo((4 / 6 - 1 / 3) / (1 - 1 / 3), 12);
    expect(cohensKappa([['a', 'a']]).kappa).toBeNull(); // chance agreement 1: undefined
  });

  it('is reported for two authors who judged the same NLVR2 labels, with their conflicts side by side', async () => {
    const b = createBackend({ home: tempDir(), mode: 'browser' });
    open.push(b);
    const root = tempDir();
    fs.copyFileSync(NLVR2_DEV, path.join(root, 'dev.json'));
    const { datasetId } = await importDataset(b.db, { root }, quiet);
    const ids = fs
      .readFileSync(NLVR2_DEV, 'utf8')
      .trim()
      .split('\n')
      .slice(0, 12)
      .map((l) => JSON.parse(l).identifier as string);
    const judge = (author: string, labels: string) =>
      b.call('editLabels', {
        edits: labels
          .split('')
          .map((c, i) => ({ datasetId, kind: 'nlvr2', key: ids[i], field: 'label', value: c === 'T' })),
        author,
      });
    await judge('ada', 'TTTTTTFFFF');
    await judge('bob', 'TTTTFFFFFT');
    // cy judged other items: no overlap with ada or bob beyond these
    await b.call('editLabels', {
      edits: [{ datasetId, kind: 'nlvr2', key: ids[11], field: 'label', value: true }],
      author: 'cy',
    });
    const a = (await b.call('getLabelAgreement', { datasetId })) as LabelAgreement;
    expect(a.agreement).toHaveLength(1);
    expect(a.agreement[0].authors).toEqual(['ada', 'bob']);
    expect(a.agreement[0].items).toBe(10);
    expect(a.agreement[0].kappa).toBeCloseTo(0.4, 12);
    expect(a.conflicts.total).toBe(3);
    const sideBySide = a.conflicts.items.map((c) => [c.key, c.judgements.map((j) => [j.author, j.value])]);
    expect(sideBySide).toEqual(
      expect.arrayContaining([
        [
          ids[4],
          [
            ['ada', true],
            ['bob', false],
          ],
        ],
        [
          ids[5],
          [
            ['ada', true],
            ['bob', false],
          ],
        ],
        [
          ids[9],
          [
            ['ada', false],
            ['bob', true],
          ],
        ],
      ]),
    );
  });
});
