// The label store: an append-only history in SQLite. The current value of a (target, field) is its newest
// row, or the dataset's original value when it was never edited. Undo, redo and revert append rows; an edit
// based on a value that someone else has changed since is refused (conflict), never silently overwritten.
// Each call is one transaction committed with synchronous=FULL before it returns, so an acknowledged edit
// survives a crash.
import { ApiError } from '../api/contract';
import type { LabelEvent, LabelField } from '../api/schemas';
import { now, type Db } from '../store/db';
import { fieldSchema, type TargetKind } from './fields';
import {
  decisionsOf,
  inForceValue,
  insertDecision,
  isCorrection,
  reviewRequired,
  scanHistory,
  type Decision,
} from './adjudication';

export interface LabelTarget {
  datasetId: number;
  kind: TargetKind;
  key: string;
}

export interface LabelEdit extends LabelTarget {
  field: string;
  value: unknown;
  /** The value the client showed; when given and the current value differs, the edit is refused. */
  expected?: unknown;
}

export type { LabelEvent };

export interface Provenance {
  author: string;
  view?: string;
  evalRunId?: number;
}

interface EventRow {
  id: number;
  dataset_id: number;
  target_kind: TargetKind;
  target_key: string;
  field: string;
  old_value: string | null;
  new_value: string | null;
  author: string;
  created_at: string;
  view: string | null;
  eval_run_id: number | null;
  reverses: number | null;
  action: LabelEvent['action'];
  batch: number | null;
  review: 'required' | null;
}

/** The events of one undoable step: one call's edits, or the undo / redo of such a step. */
type Step = number[];

const parse = (v: string | null): unknown => (v === null ? null : JSON.parse(v));
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Why a value's text is not valid Unicode, if it is not. Bytes that are not UTF-8 reach the backend already
 * decoded (the HTTP bridge and IPC decode as UTF-8) as U+FFFD, the replacement character, which no caption
 * means; JSON escapes can also carry lone surrogates, which SQLite would store as U+FFFD. Both are refused,
 * never stored.
 */
export function brokenText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const at = value.indexOf('\uFFFD');
  if (at >= 0) return `bytes that are not UTF-8 at character ${at + 1}`;
  if (/\p{Cs}/u.test(value)) return 'a lone UTF-16 surrogate';
  return null;
}

function toEvent(r: EventRow): LabelEvent {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    kind: r.target_kind,
    key: r.target_key,
    field: r.field,
    oldValue: parse(r.old_value),
    newValue: parse(r.new_value),
    author: r.author,
    createdAt: r.created_at,
    view: r.view,
    evalRunId: r.eval_run_id,
    reverses: r.reverses,
    action: r.action,
    review: r.review,
  };
}

/**
 * The imported items a label is about, read through their owner (datasets/items.ts, a floor above labels/):
 * the composition root passes them in.
 */
export interface ImportedItems {
  caption(datasetId: number, sentid: number): { raw: string; source_id: string } | undefined;
  nlvr2Example(datasetId: number, identifier: string): { sentence: string; label: number | null } | undefined;
  hasImage(datasetId: number, sourceId: string): boolean;
}

export class LabelHistory {
  constructor(
    private readonly db: Db,
    private readonly items: ImportedItems,
  ) {}

  /** The value a field had in the dataset as imported (null for fields the dataset does not have). */
  original(t: LabelTarget, field: string): unknown {
    if (t.kind === 'caption' && !t.key.startsWith('new:')) {
      const row = this.items.caption(t.datasetId, Number(t.key));
      if (!row) throw new ApiError('not_found', `Dataset ${t.datasetId} has no caption with sentid ${t.key}.`);
      if (field === 'raw') return row.raw;
      if (field === 'image') return row.source_id;
      if (field === 'removed') return false;
    }
    if (t.kind === 'nlvr2') {
      const row = this.items.nlvr2Example(t.datasetId, t.key);
      if (!row) throw new ApiError('not_found', `Dataset ${t.datasetId} has no NLVR2 example ${t.key}.`);
      if (field === 'label') return row.label === null ? null : row.label === 1;
      if (field === 'sentence') return row.sentence;
    }
    if (t.kind === 'image' && !this.items.hasImage(t.datasetId, t.key)) {
      throw new ApiError('not_found', `Dataset ${t.datasetId} has no image with imgid ${t.key}.`);
    }
    return null;
  }

  private newest(t: LabelTarget, field: string): EventRow | undefined {
    return this.db
      .prepare(
        `SELECT * FROM label_events WHERE dataset_id = ? AND target_kind = ? AND target_key = ? AND field = ? ORDER BY id DESC LIMIT 1`,
      )
      .get(t.datasetId, t.kind, t.key, field) as EventRow | undefined;
  }

  /** How many history rows a dataset has (undo, redo and revert rows included). */
  count(datasetId: number): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM label_events WHERE dataset_id = ?').get(datasetId) as { n: number }
    ).n;
  }

  current(t: LabelTarget, field: string): unknown {
    const row = this.newest(t, field);
    return row ? parse(row.new_value) : this.original(t, field);
  }

  /** Current values of every edited field of some targets (fields never edited are omitted). */
  state(
    targets: LabelTarget[],
  ): { target: LabelTarget; field: string; value: unknown; eventId: number; author: string }[] {
    const stmt = this.db.prepare(
      `SELECT * FROM label_events e WHERE dataset_id = ? AND target_kind = ? AND target_key = ?
       AND id = (SELECT max(id) FROM label_events x WHERE x.dataset_id = e.dataset_id AND x.target_kind = e.target_kind
                 AND x.target_key = e.target_key AND x.field = e.field)`,
    );
    return targets.flatMap((t) =>
      (stmt.all(t.datasetId, t.kind, t.key) as EventRow[]).map((r) => ({
        target: t,
        field: r.field,
        value: parse(r.new_value),
        eventId: r.id,
        author: r.author,
      })),
    );
  }

  private append(
    t: LabelTarget,
    field: string,
    oldValue: unknown,
    newValue: unknown,
    p: Provenance,
    action: LabelEvent['action'],
    reverses: number | null,
    batch: { id: number | null },
    /** 'auto': pending review when the setting is on and the event changes a correction field's value in force. */
    review: 'auto' | null = 'auto',
  ): LabelEvent {
    const pending =
      review === 'auto' &&
      isCorrection(t.kind, field) &&
      reviewRequired(this.db) &&
      !same(newValue, (inForceValue(this.db, t, field) ?? { value: this.original(t, field) }).value);
    // a batch is named by its first event's id (rows are never updated, so it is known before the insert)
    batch.id ??=
      ((
        this.db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'label_events'`).get() as
          { seq: number } | undefined
      )?.seq ?? 0) + 1;
    const info = this.db
      .prepare(
        `INSERT INTO label_events (dataset_id, target_kind, target_key, field, old_value, new_value, author, created_at, view, eval_run_id, reverses, action, batch, review)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.datasetId,
        t.kind,
        t.key,
        field,
        JSON.stringify(oldValue ?? null),
        JSON.stringify(newValue ?? null),
        p.author,
        now(),
        p.view ?? null,
        p.evalRunId ?? null,
        reverses,
        action,
        batch.id,
        pending ? 'required' : null,
      );
    return this.get(Number(info.lastInsertRowid));
  }

  get(id: number): LabelEvent {
    const row = this.db.prepare('SELECT * FROM label_events WHERE id = ?').get(id) as EventRow | undefined;
    if (!row) throw new ApiError('not_found', `There is no label event ${id}.`);
    return toEvent(row);
  }

  /** A caption can only move to (or be added on) an image of its dataset: the export would have nowhere to put it. */
  private requireImage(datasetId: number, imgid: string): void {
    if (!this.items.hasImage(datasetId, imgid)) {
      throw new ApiError(
        'invalid_arguments',
        `Dataset ${datasetId} has no image with imgid ${imgid}: give the imgid of an image of this dataset.`,
      );
    }
  }

  /** Applies edits all or nothing, as one undoable step. */
  edit(edits: LabelEdit[], p: Provenance): LabelEvent[] {
    const batch = { id: null as number | null };
    return this.db
      .transaction(() =>
        edits.map((e) => {
          const schema = fieldSchema(e.kind, e.field);
          if (!schema) throw new ApiError('invalid_arguments', `A ${e.kind} has no field "${e.field}".`);
          const parsed = schema.safeParse(e.value);
          if (!parsed.success) {
            throw new ApiError(
              'invalid_arguments',
              `${e.kind} ${e.key}, field "${e.field}": ${parsed.error.issues.map((i) => i.message).join('; ')}`,
            );
          }
          const broken = brokenText(parsed.data);
          if (broken) {
            throw new ApiError(
              'invalid_arguments',
              `${e.kind} ${e.key}, field "${e.field}": the text is not valid UTF-8 (${broken}); it was not stored. Re-type it, or fix the encoding of what was pasted.`,
            );
          }
          if (e.kind === 'caption' && e.field === 'image') this.requireImage(e.datasetId, parsed.data as string);
          const current = this.current(e, e.field);
          if (e.expected !== undefined && !same(current, e.expected)) {
            const last = this.newest(e, e.field);
            throw new ApiError(
              'conflict',
              `${e.kind} ${e.key} "${e.field}" was changed${last ? ` by ${last.author} at ${last.created_at}` : ''} to ${JSON.stringify(current)}; reload and try again.`,
              { current, eventId: last?.id ?? null },
            );
          }
          return this.append(e, e.field, current, parsed.data, p, 'edit', null, batch);
        }),
      )
      .immediate(); // immediate: a write after a read in a deferred transaction fails at once if a worker committed
  }

  /** Reverses one event, provided the field still holds what that event wrote. */
  private reverse(
    target: LabelEvent,
    p: Provenance,
    action: 'undo' | 'redo' | 'revert',
    batch: { id: number | null } = { id: null },
  ): LabelEvent {
    const t: LabelTarget = { datasetId: target.datasetId, kind: target.kind, key: target.key };
    const current = this.current(t, target.field);
    if (!same(current, target.newValue)) {
      const last = this.newest(t, target.field)!;
      throw new ApiError(
        'conflict',
        `Cannot ${action}: ${target.kind} ${target.key} "${target.field}" was changed since, by ${last.author} at ${last.created_at}.`,
        {
          current,
        },
      );
    }
    return this.append(t, target.field, current, target.oldValue, p, action, target.id, batch);
  }

  /**
   * The author's undo and redo stacks of steps (one call's events each), rebuilt from the history so they
   * survive restarts.
   */
  stacks(author: string, datasetId?: number): { undo: Step[]; redo: Step[] } {
    const rows = (
      this.db
        .prepare(
          `SELECT id, action, reverses, batch FROM label_events WHERE author = ? ${datasetId ? 'AND dataset_id = ?' : ''} ORDER BY id DESC LIMIT 20000`,
        )
        .all(...(datasetId ? [author, datasetId] : [author])) as Pick<
        EventRow,
        'id' | 'action' | 'reverses' | 'batch'
      >[]
    ).reverse();
    // one call's rows are consecutive (a transaction) and share a batch; rows from before batches stand alone
    const steps: { action: LabelEvent['action']; ids: number[]; reverses: number | null }[] = [];
    rows.forEach((r, i) => {
      const prev = rows[i - 1];
      if (prev && r.batch !== null && r.batch === prev.batch) steps[steps.length - 1].ids.push(r.id);
      else steps.push({ action: r.action, ids: [r.id], reverses: r.reverses });
    });
    const undo: Step[] = [];
    let redo: Step[] = [];
    const take = (stack: Step[], id: number | null) => {
      const at = stack.findLastIndex((s) => id !== null && s.includes(id));
      if (at >= 0) stack.splice(at, 1); // a step older than the window read is simply not there
    };
    for (const s of steps) {
      if (s.action === 'edit' || s.action === 'revert') {
        undo.push(s.ids);
        redo = [];
      } else if (s.action === 'undo') {
        take(undo, s.reverses);
        redo.push(s.ids);
      } else {
        take(redo, s.reverses);
        undo.push(s.ids);
      }
    }
    return { undo, redo };
  }

  /** Reverses a whole step, newest event first, as one new step; any conflict refuses all of it. */
  private reverseStep(step: Step | undefined, p: Provenance, action: 'undo' | 'redo'): LabelEvent | null {
    if (!step) return null;
    const batch = { id: null as number | null };
    let last: LabelEvent | null = null;
    for (const id of [...step].reverse()) last = this.reverse(this.get(id), p, action, batch);
    return last;
  }

  undo(p: Provenance, datasetId?: number): LabelEvent | null {
    return this.db
      .transaction(() => this.reverseStep(this.stacks(p.author, datasetId).undo.at(-1), p, 'undo'))
      .immediate();
  }

  redo(p: Provenance, datasetId?: number): LabelEvent | null {
    return this.db
      .transaction(() => this.reverseStep(this.stacks(p.author, datasetId).redo.at(-1), p, 'redo'))
      .immediate();
  }

  revert(eventId: number, p: Provenance): LabelEvent {
    return this.db.transaction(() => this.reverse(this.get(eventId), p, 'revert')).immediate();
  }

  /**
   * A second person's decision on a pending correction: accept puts it in force; reject also appends an event
   * that restores the value in force, so the field holds what exports read. Only the newest event of a field
   * can be decided (an older one was superseded), and never by its own author.
   */
  review(
    eventId: number,
    decision: 'accept' | 'reject',
    p: Provenance & { note?: string },
  ): { decision: Decision; event: LabelEvent | null } {
    return this.db
      .transaction(() => {
        const e = this.get(eventId);
        if (e.review !== 'required')
          throw new ApiError(
            'invalid_arguments',
            `Label event ${eventId} needs no review: it was written while corrections needed no review, or it is not a correction.`,
          );
        const t: LabelTarget = { datasetId: e.datasetId, kind: e.kind, key: e.key };
        const newest = this.newest(t, e.field)!;
        if (newest.id !== e.id)
          throw new ApiError(
            'conflict',
            `${e.kind} ${e.key} "${e.field}" was changed since event ${eventId}, by ${newest.author} at ${newest.created_at} (event ${newest.id}); review that one.`,
            { eventId: newest.id },
          );
        if (e.author === p.author)
          throw new ApiError(
            'forbidden',
            `${p.author} wrote this correction; someone else reviews it (set your user name in Labels if this is not you).`,
          );
        if (decisionsOf(this.db, eventId).some((d) => d.author === p.author && d.decision === decision))
          throw new ApiError('conflict', `${p.author} already ${decision}ed label event ${eventId}.`);
        let event: LabelEvent | null = null;
        if (decision === 'reject') {
          const restored = inForceValue(this.db, t, e.field, e.id)?.value ?? this.original(t, e.field);
          event = this.append(t, e.field, e.newValue, restored, p, 'revert', e.id, { id: null }, null);
        }
        const d = insertDecision(this.db, {
          eventId,
          datasetId: e.datasetId,
          decision,
          author: p.author,
          createdAt: now(),
          note: p.note ?? null,
          revertEventId: event?.id ?? null,
        });
        return { decision: d, event };
      })
      .immediate();
  }

  /** A dataset's edited fields with their review state, newest first; `state` filters them. */
  fields(q: { datasetId: number; state?: LabelField['state']; offset: number; limit: number }): {
    total: number;
    counts: Record<LabelField['state'], number>;
    items: LabelField[];
  } {
    const scan = scanHistory(this.db, q.datasetId);
    const counts = { pending: 0, accepted: 0, rejected: 0, unreviewed: 0 };
    const all = [...scan.fields.values()];
    for (const f of all) counts[f.state]++;
    const chosen = all.filter((f) => !q.state || f.state === q.state).sort((a, b) => b.newest.id - a.newest.id);
    // a rejected field shows the correction that was rejected (its newest event restored the value before it)
    const rejectedBy = new Map<number, number>();
    for (const ds of scan.decisions.values())
      for (const d of ds) if (d.revertEventId !== null) rejectedBy.set(d.revertEventId, d.eventId);
    const items = chosen.slice(q.offset, q.offset + q.limit).map((f) => {
      const event = this.get(rejectedBy.get(f.newest.id) ?? f.newest.id);
      return {
        datasetId: q.datasetId,
        kind: f.kind,
        key: f.key,
        field: f.field,
        state: f.state,
        value: event.newValue,
        valueInForce: parse(f.inForce ? f.inForce.new_value : f.original),
        original: parse(f.original),
        event,
        decisions: scan.decisions.get(event.id) ?? [],
      };
    });
    return { total: chosen.length, counts, items };
  }

  list(q: {
    datasetId?: number;
    kind?: TargetKind;
    author?: string;
    since?: string;
    until?: string;
    offset: number;
    limit: number;
  }): {
    total: number;
    items: LabelEvent[];
    counts: { datasetId: number; kind: TargetKind; field: string; n: number }[];
  } {
    const where: string[] = [];
    const args: Record<string, unknown> = { ...q };
    if (q.datasetId) where.push('dataset_id = @datasetId');
    if (q.kind) where.push('target_kind = @kind');
    if (q.author) where.push('author = @author');
    if (q.since) where.push('created_at >= @since');
    if (q.until) where.push('created_at <= @until');
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT count(*) AS n FROM label_events ${w}`).get(args) as { n: number }).n;
    const items = (
      this.db
        .prepare(`SELECT * FROM label_events ${w} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
        .all(args) as EventRow[]
    ).map(toEvent);
    const counts = this.db
      .prepare(
        `SELECT dataset_id AS datasetId, target_kind AS kind, field, count(*) AS n FROM label_events ${w} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
      .all(args) as { datasetId: number; kind: TargetKind; field: string; n: number }[];
    return { total, items, counts };
  }
}

/**
 * Deletes a dataset's whole history: only when the user removes the dataset and confirms deleting its labels.
 * The history is append-only, so this one explicit action lifts the guard inside the caller's transaction.
 */
export function deleteDatasetLabels(db: Db, datasetId: number): number {
  // its review decisions and snapshots go with it (decisions point at its events)
  db.exec('DROP TRIGGER label_reviews_no_delete');
  db.prepare('DELETE FROM label_reviews WHERE dataset_id = ?').run(datasetId);
  db.exec(`CREATE TRIGGER label_reviews_no_delete BEFORE DELETE ON label_reviews BEGIN
    SELECT RAISE(ABORT, 'label reviews are append-only');
  END;`);
  db.prepare('DELETE FROM label_snapshots WHERE dataset_id = ?').run(datasetId);
  db.exec('DROP TRIGGER label_events_no_delete');
  const deleted = db.prepare('DELETE FROM label_events WHERE dataset_id = ?').run(datasetId).changes;
  db.exec(`CREATE TRIGGER label_events_no_delete BEFORE DELETE ON label_events BEGIN
    SELECT RAISE(ABORT, 'label history is append-only');
  END;`);
  return deleted;
}

// Reads other domains make of the history: the values as they stand now, and how far the history has grown.

/** A target's field as it stands now (its newest history row), JSON-decoded. */
export interface NewestValue {
  kind: TargetKind;
  key: string;
  field: string;
  value: unknown;
}

/** Every edited field of a dataset as it stands now; `scope` limits it to some target kinds and fields. */
export function newestValues(
  db: Db,
  datasetId: number,
  scope?: { kinds: readonly TargetKind[]; fields: readonly string[] },
): NewestValue[] {
  const marks = (n: number) => new Array(n).fill('?').join(', ');
  const where = scope
    ? `AND target_kind IN (${marks(scope.kinds.length)}) AND field IN (${marks(scope.fields.length)})`
    : '';
  const rows = db
    .prepare(
      `SELECT target_kind, target_key, field, new_value FROM label_events e WHERE dataset_id = ? ${where}
       AND id = (SELECT max(id) FROM label_events x WHERE x.dataset_id = e.dataset_id AND x.target_kind = e.target_kind
                 AND x.target_key = e.target_key AND x.field = e.field)`,
    )
    .all(datasetId, ...(scope ? [...scope.kinds, ...scope.fields] : [])) as {
    target_kind: TargetKind;
    target_key: string;
    field: string;
    new_value: string | null;
  }[];
  return rows.map((r) => ({ kind: r.target_kind, key: r.target_key, field: r.field, value: parse(r.new_value) }));
}

/** The judged (caption, image) pairs as they stand now: also-match and hard-negative relations. */
export function judgedPairs(db: Db, datasetId: number): { sentid: number; imgid: number; relation: string }[] {
  const rows = db
    .prepare(
      `SELECT target_key, new_value FROM label_events e WHERE dataset_id = ? AND target_kind = 'pair' AND field = 'relation'
       AND id = (SELECT max(id) FROM label_events x WHERE x.dataset_id = e.dataset_id AND x.target_kind = 'pair'
                 AND x.target_key = e.target_key AND x.field = 'relation')`,
    )
    .all(datasetId) as { target_key: string; new_value: string | null }[];
  return rows.flatMap((r) => {
    const relation = parse(r.new_value) as string | null;
    const [sentid, imgid] = r.target_key.split('|').map(Number);
    return relation && Number.isFinite(sentid) && Number.isFinite(imgid) ? [{ sentid, imgid, relation }] : [];
  });
}

/** Each edited caption and NLVR2 field of a dataset: its value before the first edit and after the last. */
export function firstAndLastValues(
  db: Db,
  datasetId: number,
): { kind: 'caption' | 'nlvr2'; field: string; first: string; last: string }[] {
  return db
    .prepare(
      `SELECT g.target_kind AS kind, g.field, f.old_value AS first, l.new_value AS last
       FROM (SELECT target_kind, target_key, field, min(id) AS first_id, max(id) AS last_id FROM label_events
             WHERE dataset_id = ? AND target_kind IN ('caption', 'nlvr2') GROUP BY 1, 2, 3) g
       JOIN label_events f ON f.id = g.first_id JOIN label_events l ON l.id = g.last_id`,
    )
    .all(datasetId) as { kind: 'caption' | 'nlvr2'; field: string; first: string; last: string }[];
}

/** The newest history row's id (of one dataset, or of all): 0 while there is none. */
export function lastLabelEventId(db: Db, datasetId?: number): number {
  const row = (
    datasetId === undefined
      ? db.prepare('SELECT max(id) AS m FROM label_events').get()
      : db.prepare('SELECT max(id) AS m FROM label_events WHERE dataset_id = ?').get(datasetId)
  ) as { m: number | null };
  return row.m ?? 0;
}

/** The datasets with history rows newer than `afterId`, each with its newest row's id. */
export function labelEventsSince(db: Db, afterId: number): { datasetId: number; lastId: number }[] {
  return db
    .prepare('SELECT dataset_id AS datasetId, max(id) AS lastId FROM label_events WHERE id > ? GROUP BY dataset_id')
    .all(afterId) as { datasetId: number; lastId: number }[];
}

/**
 * The targets a view's decisions stand on now: for each target (kind and key) the view wrote to, whether the newest
 * of those events is an edit or redo (decided) rather than an undo (taken back). A pair "sentid|imgid" counts for
 * both its caption and its image.
 */
export function decidedTargets(db: Db, datasetId: number, view: string): Set<string> {
  const rows = db
    .prepare(
      `SELECT target_kind AS kind, target_key AS key, action FROM label_events
       WHERE dataset_id = ? AND view = ? ORDER BY id`,
    )
    .all(datasetId, view) as { kind: TargetKind; key: string; action: string }[];
  const last = new Map<string, boolean>();
  for (const r of rows) {
    const decided = r.action !== 'undo';
    if (r.kind === 'pair') {
      const [sentid, imgid] = r.key.split('|');
      last.set(`caption:${sentid}`, decided);
      last.set(`image:${imgid}`, decided);
    } else last.set(`${r.kind}:${r.key}`, decided);
  }
  return new Set([...last].filter(([, d]) => d).map(([k]) => k));
}
