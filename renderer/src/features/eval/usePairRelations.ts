import { useEffect, useState } from 'react';
import { mome } from '../../api/mome';
import { useLabels } from '../labels/store';
import { toastError } from '../../stores/toasts';

export type Relation = 'hard_negative' | 'also_match';

/**
 * The relation the user gave each (caption, candidate image) pair, as the history holds it now: shown on the
 * candidates and sent as `expected`, so a mark made from a stale view is refused instead of silently
 * overwriting another client's.
 */
export function usePairRelations(datasetId: number, caption: string, images: string[]): Map<string, Relation | null> {
  const [state, setState] = useState(new Map<string, Relation | null>());
  const version = useLabels((s) => s.version);
  const keys = images.join(',');
  useEffect(() => {
    if (!keys) return setState(new Map());
    let stale = false;
    const targets = keys.split(',').map((k) => ({ datasetId, kind: 'pair' as const, key: `${caption}|${k}` }));
    mome()
      .getLabelState({ targets })
      .then((rows) => {
        if (stale) return;
        const m = new Map<string, Relation | null>(targets.map((t) => [t.key, null]));
        for (const r of rows) if (r.field === 'relation') m.set(r.target.key, (r.value as Relation | null) ?? null);
        setState(m);
      })
      .catch((e) => !stale && toastError(e));
    return () => {
      stale = true;
    };
  }, [datasetId, caption, keys, version]);
  return state;
}
