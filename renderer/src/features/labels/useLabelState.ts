// What the label history says a set of targets is now, for views that show edited values.
import { useEffect, useState } from 'react';
import { mome } from '../../api/mome';
import { useLabels } from './store';

export type LabelState = Record<string, unknown>; // "kind|key|field" -> current value

/** Current values of every edited field of these targets, re-read whenever any client changes a label. */
export function useLabelState(
  targets: { datasetId: number; kind: 'caption' | 'image' | 'nlvr2'; key: string }[],
): LabelState {
  const version = useLabels((s) => s.version);
  const [state, setState] = useState<LabelState>({});
  const key = JSON.stringify(targets);
  useEffect(() => {
    let stale = false;
    const t = JSON.parse(key) as typeof targets;
    if (t.length === 0) return;
    mome()
      .getLabelState({ targets: t })
      .then(
        (rows) =>
          !stale &&
          setState(Object.fromEntries(rows.map((r) => [`${r.target.kind}|${r.target.key}|${r.field}`, r.value]))),
      )
      .catch(() => undefined);
    return () => {
      stale = true;
    };
  }, [key, version]);
  return state;
}
