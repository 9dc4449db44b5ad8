// The user's label corrections as of now (the newest history row per target and field), applied to what an
// evaluation reads: a caption's text, its image (moved), or its removal; an NLVR2 sentence or label. The
// dataset on disk is never changed; an evaluation after a correction scores the corrected labels.
import type { Db } from '../store/db';

export type Corrections = Map<string, Map<string, unknown>>;

export function readCorrections(db: Db, datasetId: number): Corrections {
  const rows = db
    .prepare(
      `SELECT target_kind, target_key, field, new_value FROM label_events e
       WHERE dataset_id = ? AND target_kind IN ('caption', 'nlvr2') AND field IN ('raw', 'image', 'removed', 'label', 'sentence')
         AND id = (SELECT max(id) FROM label_events x WHERE x.dataset_id = e.dataset_id AND x.target_kind = e.target_kind
                   AND x.target_key = e.target_key AND x.field = e.field)`,
    )
    .all(datasetId) as { target_kind: string; target_key: string; field: string; new_value: string | null }[];
  const out: Corrections = new Map();
  for (const r of rows) {
    const key = `${r.target_kind}:${r.target_key}`;
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(r.field, r.new_value === null ? null : JSON.parse(r.new_value));
  }
  return out;
}

export function corrected<T>(c: Corrections, kind: string, key: string, field: string, original: T): T {
  const v = c.get(`${kind}:${key}`)?.get(field);
  return v === undefined ? original : (v as T);
}
