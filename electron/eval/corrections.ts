// The user's label corrections as of now (the newest history row per target and field), applied to what an
// evaluation reads: a caption's text, its image (moved), or its removal; an NLVR2 sentence or label. The
// dataset on disk is never changed; an evaluation after a correction scores the corrected labels.
import { newestValues } from '../labels/history';
import type { Db } from '../store/db';

export type Corrections = Map<string, Map<string, unknown>>;

export function readCorrections(db: Db, datasetId: number): Corrections {
  const out: Corrections = new Map();
  const scope = { kinds: ['caption', 'nlvr2'], fields: ['raw', 'image', 'removed', 'label', 'sentence'] } as const;
  for (const v of newestValues(db, datasetId, scope)) {
    const key = `${v.kind}:${v.key}`;
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(v.field, v.value);
  }
  return out;
}

export function corrected<T>(c: Corrections, kind: string, key: string, field: string, original: T): T {
  const v = c.get(`${kind}:${key}`)?.get(field);
  return v === undefined ? original : (v as T);
}
