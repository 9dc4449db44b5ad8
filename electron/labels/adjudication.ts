// Adjudication: with the project setting "corrections need review" on, a correction (a change to a field that
// exports and fine-tunes read) is written as pending and is in force only once someone other than its author
// accepts it. What is "in force" at a point of the history (high-water marks into label_events and
// label_reviews) is what exports, fine-tunes and label snapshots read. Also: the states the Labels view filters
// by, the conflicts between authors, and their agreement (Cohen's kappa).
import type { Db } from '../store/db';
import { readSetting, writeSetting, deleteSetting } from '../store/settings';
import type { TargetKind } from './fields';

/** Fields whose value an export or a fine-tune reads: changing one is a correction. Flags and notes are not. */
export const CORRECTION_FIELDS: Record<TargetKind, readonly string[]> = {
  caption: ['raw', 'image', 'removed'],
  nlvr2: ['label', 'sentence'],
  pair: ['relation'],
  image: [],
};
export const isCorrection = (kind: TargetKind, field: string) => CORRECTION_FIELDS[kind].includes(field);

/** Fields with a few categories, where two people's judgements can be compared (free text cannot). */
const CATEGORICAL: Record<TargetKind, readonly string[]> = {
  caption: ['image', 'removed', 'flag'],
  image: ['flag'],
  nlvr2: ['label', 'flag'],
  pair: ['relation'],
};

const REVIEW_KEY = 'labels.review_required';
const USER_KEY = 'labels.user_name';

export function reviewRequired(db: Db): boolean {
  return readSetting(db, REVIEW_KEY) === 'true';
}

export function setReviewRequired(db: Db, on: boolean): void {
  writeSetting(db, REVIEW_KEY, on ? 'true' : 'false');
}

/** The app's user name, when one is set (labels are otherwise the OS user's). */
export function userName(db: Db): string | null {
  return readSetting(db, USER_KEY) ?? null;
}

export function setUserName(db: Db, name: string | null): void {
  if (name === null || !name.trim()) deleteSetting(db, USER_KEY);
  else writeSetting(db, USER_KEY, name.trim());
}

/** A point of the history: every label event and review decision up to these ids. */
export interface Marks {
  events: number;
  reviews: number;
}

export function currentMarks(db: Db): Marks {
  const m = db
    .prepare(
      `SELECT (SELECT coalesce(max(id), 0) FROM label_events) AS events, (SELECT coalesce(max(id), 0) FROM label_reviews) AS reviews`,
    )
    .get() as Marks;
  return m;
}

export type FieldState = 'pending' | 'accepted' | 'rejected' | 'unreviewed';

export interface ScannedEvent {
  id: number;
  kind: TargetKind;
  key: string;
  field: string;
  old_value: string | null;
  new_value: string | null;
  author: string;
  created_at: string;
  action: string;
  review: 'required' | null;
}

export interface Decision {
  id: number;
  eventId: number;
  decision: 'accept' | 'reject';
  author: string;
  createdAt: string;
  note: string | null;
  revertEventId: number | null;
}

/** One edited field of a dataset at a point of the history. */
export interface FieldAt {
  kind: TargetKind;
  key: string;
  field: string;
  /** The value before its first event: the dataset's original (JSON). */
  original: string | null;
  newest: ScannedEvent;
  /** The newest event in force (needs no review, or accepted), or null: the original is in force. */
  inForce: ScannedEvent | null;
  state: FieldState;
}

export interface Scan {
  fields: Map<string, FieldAt>;
  decisions: Map<number, Decision[]>; // event id -> its decisions, oldest first
  events: ScannedEvent[];
}

export const fieldKey = (kind: string, key: string, field: string) => `${kind}\t${key}\t${field}`;

interface DecisionRow {
  id: number;
  event_id: number;
  decision: 'accept' | 'reject';
  author: string;
  created_at: string;
  note: string | null;
  revert_event_id: number | null;
}

const toDecision = (r: DecisionRow): Decision => ({
  id: r.id,
  eventId: r.event_id,
  decision: r.decision,
  author: r.author,
  createdAt: r.created_at,
  note: r.note,
  revertEventId: r.revert_event_id,
});

/**
 * Reads a dataset's history up to `marks` (all of it without) in one pass: per edited field, its newest event,
 * the newest event in force and its state. One sequential read of the dataset's rows: it costs the history's
 * length, never the dataset's size.
 */
export function scanHistory(db: Db, datasetId: number, marks?: Marks): Scan {
  const m = marks ?? { events: Number.MAX_SAFE_INTEGER, reviews: Number.MAX_SAFE_INTEGER };
  const decisions = new Map<number, Decision[]>();
  const rejections = new Set<number>(); // the events a rejection appended
  for (const r of db
    .prepare('SELECT * FROM label_reviews WHERE dataset_id = ? AND id <= ? ORDER BY id')
    .iterate(datasetId, m.reviews) as IterableIterator<DecisionRow>) {
    const d = toDecision(r);
    decisions.set(d.eventId, [...(decisions.get(d.eventId) ?? []), d]);
    if (d.revertEventId !== null) rejections.add(d.revertEventId);
  }
  const events = db
    .prepare(
      `SELECT id, target_kind AS kind, target_key AS key, field, old_value, new_value, author, created_at, action, review
       FROM label_events WHERE dataset_id = ? AND id <= ? ORDER BY id`,
    )
    .all(datasetId, m.events) as ScannedEvent[];
  const fields = new Map<string, FieldAt>();
  for (const e of events) {
    const k = fieldKey(e.kind, e.key, e.field);
    let f = fields.get(k);
    if (!f) {
      f = {
        kind: e.kind,
        key: e.key,
        field: e.field,
        original: e.old_value,
        newest: e,
        inForce: null,
        state: 'unreviewed',
      };
      fields.set(k, f);
    }
    f.newest = e;
    const last = decisions.get(e.id)?.at(-1)?.decision;
    if (e.review === null || last === 'accept') f.inForce = e;
    f.state =
      e.review === 'required'
        ? last === 'accept'
          ? 'accepted'
          : last === 'reject'
            ? 'rejected'
            : 'pending'
        : rejections.has(e.id)
          ? 'rejected'
          : 'unreviewed';
  }
  return { fields, decisions, events };
}

const parse = (v: string | null): unknown => (v === null ? null : JSON.parse(v));

export interface ValueInForce {
  kind: TargetKind;
  key: string;
  field: string;
  value: unknown;
}

/**
 * The labels in force at `marks` (now without): the value of every edited field that an export or a fine-tune
 * reads, pending corrections left out, and how many fields had a pending correction left out.
 */
export function valuesInForce(
  db: Db,
  datasetId: number,
  marks?: Marks,
): { values: ValueInForce[]; pendingLeftOut: number } {
  const scan = scanHistory(db, datasetId, marks);
  const values: ValueInForce[] = [];
  let pendingLeftOut = 0;
  for (const f of scan.fields.values()) {
    if (f.state === 'pending') pendingLeftOut++;
    if (f.inForce) values.push({ kind: f.kind, key: f.key, field: f.field, value: parse(f.inForce.new_value) });
  }
  return { values, pendingLeftOut };
}

/** The judged (caption, image) pairs in force: also-match and hard-negative relations, pending ones left out. */
export function pairsInForce(
  db: Db,
  datasetId: number,
  marks?: Marks,
): { sentid: number; imgid: number; relation: string }[] {
  return valuesInForce(db, datasetId, marks).values.flatMap((v) => {
    if (v.kind !== 'pair' || v.field !== 'relation' || typeof v.value !== 'string') return [];
    const [sentid, imgid] = v.key.split('|').map(Number);
    return Number.isFinite(sentid) && Number.isFinite(imgid) ? [{ sentid, imgid, relation: v.value }] : [];
  });
}

/** A field's value in force now, leaving out event `except`; `undefined` when none is (the original is). */
export function inForceValue(
  db: Db,
  t: { datasetId: number; kind: TargetKind; key: string },
  field: string,
  except?: number,
): { value: unknown } | undefined {
  const rows = db
    .prepare(
      `SELECT e.id, e.new_value, e.review,
              (SELECT decision FROM label_reviews r WHERE r.event_id = e.id ORDER BY r.id DESC LIMIT 1) AS decision
       FROM label_events e WHERE dataset_id = ? AND target_kind = ? AND target_key = ? AND field = ? ORDER BY id DESC`,
    )
    .iterate(t.datasetId, t.kind, t.key, field) as IterableIterator<{
    id: number;
    new_value: string | null;
    review: string | null;
    decision: string | null;
  }>;
  for (const r of rows) {
    if (r.id === except) continue;
    if (r.review === null || r.decision === 'accept') return { value: parse(r.new_value) };
  }
  return undefined;
}

export function decisionsOf(db: Db, eventId: number): Decision[] {
  return (db.prepare('SELECT * FROM label_reviews WHERE event_id = ? ORDER BY id').all(eventId) as DecisionRow[]).map(
    toDecision,
  );
}

export function insertDecision(db: Db, d: Omit<Decision, 'id'> & { datasetId: number }): Decision {
  const info = db
    .prepare(
      `INSERT INTO label_reviews (event_id, dataset_id, decision, author, created_at, note, revert_event_id)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(d.eventId, d.datasetId, d.decision, d.author, d.createdAt, d.note, d.revertEventId);
  return toDecision(
    db.prepare('SELECT * FROM label_reviews WHERE id = ?').get(Number(info.lastInsertRowid)) as DecisionRow,
  );
}

// Agreement between authors ----------------------------------------------------------------------------------

/** What one author last judged a field to be: their newest event on it, or a correction they accepted. */
interface Judgement {
  author: string;
  value: string | null;
  at: string;
  eventId: number;
}

/** Each author's newest judgement per field (an undo withdraws the author's judgement). */
function judgements(scan: Scan, fieldsOnly?: (kind: TargetKind, field: string) => boolean) {
  const out = new Map<string, Map<string, Judgement>>(); // field key -> author -> judgement
  const put = (k: string, j: Judgement | null, author: string) => {
    if (!out.has(k)) out.set(k, new Map());
    const m = out.get(k)!;
    const prior = m.get(author);
    if (prior && j && prior.at > j.at) return;
    if (j) m.set(author, j);
    else m.delete(author);
  };
  for (const e of scan.events) {
    if (fieldsOnly && !fieldsOnly(e.kind, e.field)) continue;
    const k = fieldKey(e.kind, e.key, e.field);
    put(
      k,
      e.action === 'undo' ? null : { author: e.author, value: e.new_value, at: e.created_at, eventId: e.id },
      e.author,
    );
  }
  const byId = new Map(scan.events.map((e) => [e.id, e]));
  for (const [eventId, ds] of scan.decisions) {
    const e = byId.get(eventId);
    if (!e || (fieldsOnly && !fieldsOnly(e.kind, e.field))) continue;
    for (const d of ds) {
      // accepting is judging the field to be what the event wrote; a rejection's own event says what instead
      if (d.decision === 'accept')
        put(
          fieldKey(e.kind, e.key, e.field),
          { author: d.author, value: e.new_value, at: d.createdAt, eventId },
          d.author,
        );
    }
  }
  return out;
}

export interface AuthorAgreement {
  authors: [string, string];
  /** Items (fields) both judged. */
  items: number;
  observed: number;
  expected: number;
  /** Cohen's kappa; null when chance agreement is 1 (both always gave one and the same category). */
  kappa: number | null;
}

/**
 * Cohen's kappa between every two authors over the categorical fields both judged. Categories are the field and
 * its value, so items of different fields never count as agreeing.
 */
export function cohensKappa(pairs: [string, string][]): Omit<AuthorAgreement, 'authors'> {
  const n = pairs.length;
  if (n === 0) return { items: 0, observed: 0, expected: 0, kappa: null };
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  let agree = 0;
  for (const [x, y] of pairs) {
    if (x === y) agree++;
    a.set(x, (a.get(x) ?? 0) + 1);
    b.set(y, (b.get(y) ?? 0) + 1);
  }
  const observed = agree / n;
  let expected = 0;
  for (const [c, na] of a) expected += (na / n) * ((b.get(c) ?? 0) / n);
  const kappa = expected >= 1 ? null : (observed - expected) / (1 - expected);
  return { items: n, observed, expected, kappa };
}

export function agreement(db: Db, datasetId: number): AuthorAgreement[] {
  const scan = scanHistory(db, datasetId);
  const js = judgements(scan, (kind, field) => CATEGORICAL[kind].includes(field));
  const byPair = new Map<string, [string, string][]>();
  for (const [k, m] of js) {
    const field = k.split('\t')[2];
    const authors = [...m.keys()].sort();
    for (let i = 0; i < authors.length; i++)
      for (let j = i + 1; j < authors.length; j++) {
        const pk = `${authors[i]}\t${authors[j]}`;
        const cat = (a: string) => `${field}=${m.get(a)!.value}`;
        byPair.set(pk, [...(byPair.get(pk) ?? []), [cat(authors[i]), cat(authors[j])]]);
      }
  }
  return [...byPair].map(([pk, pairs]) => ({
    authors: pk.split('\t') as [string, string],
    ...cohensKappa(pairs),
  }));
}

export interface Conflict {
  kind: TargetKind;
  key: string;
  field: string;
  state: FieldState;
  /** Each author's newest judgement, side by side. */
  judgements: { author: string; value: unknown; at: string; eventId: number }[];
  /** Review decisions on the field's corrections, when reviewers disagreed. */
  decisions: Decision[];
}

/** Fields where authors' newest judgements differ, or where one reviewer accepted and another rejected. */
export function conflicts(db: Db, datasetId: number, limit = 200): { total: number; items: Conflict[] } {
  const scan = scanHistory(db, datasetId);
  const js = judgements(scan);
  const eventsOf = new Map<string, number[]>();
  for (const e of scan.events) {
    const k = fieldKey(e.kind, e.key, e.field);
    eventsOf.set(k, [...(eventsOf.get(k) ?? []), e.id]);
  }
  const items: Conflict[] = [];
  for (const [k, m] of js) {
    const f = scan.fields.get(k)!;
    const values = new Set([...m.values()].map((j) => j.value));
    const decided = (eventsOf.get(k) ?? []).flatMap((id) => scan.decisions.get(id) ?? []);
    const split = new Set(decided.map((d) => d.decision)).size > 1;
    if (values.size < 2 && !split) continue;
    items.push({
      kind: f.kind,
      key: f.key,
      field: f.field,
      state: f.state,
      judgements: [...m.values()].map((j) => ({
        author: j.author,
        value: parse(j.value),
        at: j.at,
        eventId: j.eventId,
      })),
      decisions: split ? decided : [],
    });
  }
  items.sort(
    (a, b) => Math.max(...b.judgements.map((j) => j.eventId)) - Math.max(...a.judgements.map((j) => j.eventId)),
  );
  return { total: items.length, items: items.slice(0, limit) };
}
