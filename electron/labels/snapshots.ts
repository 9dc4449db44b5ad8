// Label snapshots: a named point of a dataset's label history, taken at every fine-tune (the labels the model
// was trained on) and on demand. A snapshot is two high-water marks into the history (label events and review
// decisions), never a copy of the labels: the labels in force at it are re-read from the history. Two can be
// diffed; one can be restored, as new events in one undoable step (one transaction: all or nothing).
import { ApiError } from '../api/contract';
import type { LabelEvent, LabelSnapshot, LabelSnapshotDiff } from '../api/schemas';
import { now, type Db } from '../store/db';
import { currentMarks, fieldKey, scanHistory, type Marks, type Scan } from './adjudication';
import { fieldSchema } from './fields';
import type { LabelEdit, LabelHistory, Provenance } from './history';

interface Row {
  id: number;
  dataset_id: number;
  name: string;
  reason: 'manual' | 'finetune';
  event_mark: number;
  review_mark: number;
  author: string;
  created_at: string;
  corrections: number;
  pending_left_out: number;
  finetune_job_id: number | null;
  model_id: number | null;
}

const toSnapshot = (r: Row): LabelSnapshot => ({
  id: r.id,
  datasetId: r.dataset_id,
  name: r.name,
  reason: r.reason,
  eventMark: r.event_mark,
  reviewMark: r.review_mark,
  author: r.author,
  createdAt: r.created_at,
  corrections: r.corrections,
  pendingLeftOut: r.pending_left_out,
  finetuneJobId: r.finetune_job_id,
  modelId: r.model_id,
});

export const snapshotMarks = (s: Pick<LabelSnapshot, 'eventMark' | 'reviewMark'>): Marks => ({
  events: s.eventMark,
  reviews: s.reviewMark,
});

/** Takes a snapshot of a dataset's labels now: the marks and two counts, in one read transaction. */
export function createSnapshot(
  db: Db,
  s: { datasetId: number; name: string; author: string; reason?: 'manual' | 'finetune'; finetuneJobId?: number },
): LabelSnapshot {
  return db
    .transaction(() => {
      const marks = currentMarks(db);
      const scan = scanHistory(db, s.datasetId, marks);
      let corrections = 0;
      let pending = 0;
      for (const f of scan.fields.values()) {
        if (f.inForce && f.inForce.new_value !== f.original) corrections++;
        if (f.state === 'pending') pending++;
      }
      const info = db
        .prepare(
          `INSERT INTO label_snapshots (dataset_id, name, reason, event_mark, review_mark, author, created_at, corrections, pending_left_out, finetune_job_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          s.datasetId,
          s.name,
          s.reason ?? 'manual',
          marks.events,
          marks.reviews,
          s.author,
          now(),
          corrections,
          pending,
          s.finetuneJobId ?? null,
        );
      return getSnapshot(db, Number(info.lastInsertRowid));
    })
    .immediate();
}

export function getSnapshot(db: Db, id: number): LabelSnapshot {
  const r = db.prepare('SELECT * FROM label_snapshots WHERE id = ?').get(id) as Row | undefined;
  if (!r) throw new ApiError('not_found', `There is no label snapshot ${id}.`);
  return toSnapshot(r);
}

export function listSnapshots(db: Db, datasetId?: number): LabelSnapshot[] {
  const rows = (
    datasetId === undefined
      ? db.prepare('SELECT * FROM label_snapshots ORDER BY id DESC').all()
      : db.prepare('SELECT * FROM label_snapshots WHERE dataset_id = ? ORDER BY id DESC').all(datasetId)
  ) as Row[];
  return rows.map(toSnapshot);
}

/** The snapshot a fine-tune job took of its training labels. */
export function snapshotOfFineTune(db: Db, jobId: number): LabelSnapshot | null {
  const r = db.prepare('SELECT * FROM label_snapshots WHERE finetune_job_id = ? ORDER BY id LIMIT 1').get(jobId) as
    Row | undefined;
  return r ? toSnapshot(r) : null;
}

/** The snapshot of the labels a model version was trained on (null: not trained here). */
export function snapshotOfModel(db: Db, modelId: number): LabelSnapshot | null {
  const r = db.prepare('SELECT * FROM label_snapshots WHERE model_id = ? ORDER BY id LIMIT 1').get(modelId) as
    Row | undefined;
  return r ? toSnapshot(r) : null;
}

/** Records the model version a fine-tune's snapshot produced. */
export function linkSnapshotModel(db: Db, snapshotId: number, modelId: number): void {
  db.prepare('UPDATE label_snapshots SET model_id = ? WHERE id = ?').run(modelId, snapshotId);
}

const parse = (v: string | null | undefined): unknown => (v === null || v === undefined ? null : JSON.parse(v));

/** The value in force at a scan (JSON), or the field's original when none is. */
function valueAt(scan: Scan, k: string, original: string | null): string | null {
  const f = scan.fields.get(k);
  return f?.inForce ? f.inForce.new_value : (f?.original ?? original);
}

/**
 * What changed in a dataset's labels in force between two snapshots (`from` null: as imported; `to` null: now):
 * each field whose value differs, with who wrote the value `to` holds and who accepted it.
 */
export function diffSnapshots(
  db: Db,
  datasetId: number,
  fromId: number | null,
  toId: number | null,
  limit = 1000,
): LabelSnapshotDiff {
  const from = fromId === null ? null : getSnapshot(db, fromId);
  const to = toId === null ? null : getSnapshot(db, toId);
  for (const s of [from, to])
    if (s && s.datasetId !== datasetId)
      throw new ApiError('invalid_arguments', `Snapshot ${s.id} is of dataset ${s.datasetId}, not ${datasetId}.`);
  const a = scanHistory(db, datasetId, from ? snapshotMarks(from) : { events: 0, reviews: 0 });
  const b = scanHistory(db, datasetId, to ? snapshotMarks(to) : undefined);
  const changes: LabelSnapshotDiff['changes'] = [];
  const keys = new Set([...a.fields.keys(), ...b.fields.keys()]);
  for (const k of keys) {
    const fa = a.fields.get(k);
    const fb = b.fields.get(k);
    const original = (fa ?? fb)!.original;
    const before = valueAt(a, k, original);
    const after = valueAt(b, k, original);
    if (before === after) continue;
    const f = (fb ?? fa)!;
    const by = fb?.inForce ?? null;
    changes.push({
      kind: f.kind,
      key: f.key,
      field: f.field,
      before: parse(before),
      after: parse(after),
      author: by?.author ?? null,
      acceptedBy: by ? (b.decisions.get(by.id)?.findLast((d) => d.decision === 'accept')?.author ?? null) : null,
      eventId: by?.id ?? null,
    });
  }
  changes.sort((x, y) => (y.eventId ?? 0) - (x.eventId ?? 0));
  return { datasetId, from, to, total: changes.length, changes: changes.slice(0, limit) };
}

/**
 * Makes the labels as they stand now equal the labels in force at a snapshot, as new events in one step (one
 * undo takes it back), in one transaction: a failure part-way writes nothing. With corrections needing review,
 * the restore's corrections are pending like any other.
 */
export function restoreSnapshot(db: Db, history: LabelHistory, snapshotId: number, p: Provenance): LabelEvent[] {
  const snap = getSnapshot(db, snapshotId);
  return db
    .transaction(() => {
      const at = scanHistory(db, snap.datasetId, snapshotMarks(snap));
      const nowScan = scanHistory(db, snap.datasetId);
      const edits: LabelEdit[] = [];
      const addedSince = new Set<string>();
      for (const [k, f] of nowScan.fields) {
        const t = { datasetId: snap.datasetId, kind: f.kind, key: f.key };
        if (f.kind === 'caption' && f.key.startsWith('new:') && !at.fields.has(fieldKey(f.kind, f.key, 'raw'))) {
          // a caption added after the snapshot has no text to go back to: it is removed
          if (addedSince.has(f.key)) continue;
          addedSince.add(f.key);
          if (nowScan.fields.get(fieldKey('caption', f.key, 'removed'))?.newest.new_value !== 'true')
            edits.push({ ...t, field: 'removed', value: true });
          continue;
        }
        const target = valueAt(at, k, f.original);
        if (f.newest.new_value === target) continue;
        const value = parse(target);
        if (fieldSchema(f.kind, f.field)?.safeParse(value).success) edits.push({ ...t, field: f.field, value });
      }
      return edits.length ? history.edit(edits, p) : [];
    })
    .immediate();
}
