// The labels that changed between two snapshots of a dataset (or from the dataset as imported, or up to now):
// each field's value before and after, who wrote the new value and who accepted it.
import { useEffect, useState } from 'react';
import type { LabelSnapshotDiff } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { fmtInt } from '../../format';
import { toastError } from '../../stores/toasts';

export const showValue = (v: unknown) =>
  v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);

const endName = (s: LabelSnapshotDiff['from'], none: string) => (s ? `“${s.name}”` : none);

export function DiffTable({ diff }: { diff: LabelSnapshotDiff }) {
  return (
    <div data-testid="snapshot-diff">
      <p className="muted">
        From {endName(diff.from, 'the dataset as imported')} to {endName(diff.to, 'the labels in force now')}:{' '}
        <strong>{fmtInt(diff.total)}</strong> labels changed
        {diff.changes.length < diff.total && ` (the newest ${fmtInt(diff.changes.length)} shown)`}.
      </p>
      {diff.changes.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>Item</th>
              <th>Field</th>
              <th>Before</th>
              <th>After</th>
              <th>By</th>
              <th>Accepted by</th>
            </tr>
          </thead>
          <tbody>
            {diff.changes.map((c) => (
              <tr key={`${c.kind}|${c.key}|${c.field}`}>
                <td>
                  {c.kind} {c.key}
                </td>
                <td>{c.field}</td>
                <td>{showValue(c.before)}</td>
                <td>{showValue(c.after)}</td>
                <td>{c.author ?? '—'}</td>
                <td>{c.acceptedBy ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Reads and shows the diff between two ends (null from: as imported; null to: now). */
export function LabelChanges(props: { datasetId: number; fromId: number | null; toId: number | null }) {
  const { datasetId, fromId, toId } = props;
  const [diff, setDiff] = useState<LabelSnapshotDiff | null>(null);
  useEffect(() => {
    let stale = false;
    mome()
      .diffLabelSnapshots({ datasetId, fromId, toId })
      .then((d) => !stale && setDiff(d))
      .catch(toastError);
    return () => {
      stale = true;
    };
  }, [datasetId, fromId, toId]);
  return diff ? <DiffTable diff={diff} /> : <p className="muted">Reading the label history…</p>;
}
