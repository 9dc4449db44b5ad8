// The item open in the inspection panel, in full; re-read when a label changes here or in another client.
import { useEffect, useState } from 'react';
import type { EvalItemDetail } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { useLabels } from '../labels/store';
import { toastError } from '../../stores/toasts';
import type { ItemRef } from './store';

export function useItemDetail(ref: ItemRef | null): EvalItemDetail | null {
  const [detail, setDetail] = useState<EvalItemDetail | null>(null);
  const key = ref ? `${ref.runId}|${ref.kind}|${ref.key}` : '';
  const labels = useLabels((s) => s.version); // a label edited here or elsewhere shows at once
  useEffect(() => {
    if (!key) return setDetail(null);
    const [runId, kind, k] = key.split('|');
    let stale = false;
    mome()
      .getEvalItemDetail({ runId: Number(runId), kind: kind as ItemRef['kind'], key: k })
      .then((d) => !stale && setDetail(d))
      .catch((e) => !stale && toastError(e));
    return () => {
      stale = true;
    };
  }, [key, labels]);
  return detail;
}
