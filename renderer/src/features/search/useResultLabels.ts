import { useEffect, useState } from 'react';
import type { SearchResult } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { useLabels } from '../labels/store';
import { toastError } from '../../stores/toasts';

export type Shown = Map<string, unknown>; // "pair|<sentid>|<imgid>" → relation, "image|<imgid>" → flag

/** The labels the results carry now (pair relations with the query caption, image flags). */
export function useResultLabels(datasetId: number, r: SearchResult | null): Shown {
  const [shown, setShown] = useState<Shown>(new Map());
  const version = useLabels((s) => s.version);
  useEffect(() => {
    if (!r || r.results.length === 0) return setShown(new Map());
    let stale = false;
    const targets = [
      ...r.results.map((h) => ({ datasetId, kind: 'image' as const, key: h.imgid })),
      ...(r.caption
        ? r.results.map((h) => ({ datasetId, kind: 'pair' as const, key: `${r.caption!.sentid}|${h.imgid}` }))
        : []),
    ];
    mome()
      .getLabelState({ targets })
      .then((rows) => {
        if (stale) return;
        const m: Shown = new Map();
        for (const row of rows)
          if (row.field === 'relation' || row.field === 'flag')
            m.set(`${row.target.kind}|${row.target.key}`, row.value);
        setShown(m);
      })
      .catch((e) => !stale && toastError(e));
    return () => {
      stale = true;
    };
  }, [datasetId, r, version]);
  return shown;
}
