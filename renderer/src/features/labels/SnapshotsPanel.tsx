// The Labels view's Snapshots tab: a dataset's label snapshots (taken at every fine-tune, and on demand), a
// diff of any two (or from the dataset as imported, or up to now), and restoring one as new, undoable events.
import { useState } from 'react';
import { fmtInt, fmtTime } from '../../format';
import { DiffTable } from './SnapshotDiff';
import { useReview } from './review-store';

export function SnapshotsPanel() {
  const { snapshots, datasetId, diff, diffEnds, takeSnapshot, showDiff, restore } = useReview();
  const [name, setName] = useState('');
  const [from, setFrom] = useState<string>('');
  const [to, setTo] = useState<string>('');
  if (datasetId === null) return <p className="empty">Choose a dataset to see its label snapshots.</p>;
  const id = (v: string) => (v ? Number(v) : null);
  return (
    <>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) void takeSnapshot(name.trim()).then(() => setName(''));
        }}
      >
        <input
          aria-label="Snapshot name"
          placeholder="Snapshot name"
          value={name}
          maxLength={200}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" disabled={!name.trim()}>
          Take snapshot
        </button>
        <span className="muted">
          A snapshot marks a point of the label history (nothing is copied); every fine-tune takes one of the labels it
          trains on.
        </span>
      </form>
      {snapshots.length === 0 ? (
        <p className="empty">No snapshot of this dataset yet.</p>
      ) : (
        <table className="table" data-testid="snapshot-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Taken</th>
              <th>By</th>
              <th className="num">Corrections</th>
              <th className="num">Pending left out</th>
              <th>Model</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {snapshots.map((s, i) => (
              <tr key={s.id} data-testid={`snapshot-${s.id}`}>
                <td>
                  {s.name} {s.reason === 'finetune' && <span className="tag">fine-tune {s.finetuneJobId}</span>}
                </td>
                <td>{fmtTime(s.createdAt)}</td>
                <td>{s.author}</td>
                <td className="num">{fmtInt(s.corrections)}</td>
                <td className="num">{fmtInt(s.pendingLeftOut)}</td>
                <td>{s.modelId === null ? '—' : `model ${s.modelId}`}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => void showDiff(datasetId, { fromId: snapshots[i + 1]?.id ?? null, toId: s.id })}
                  >
                    Changes since the one before
                  </button>{' '}
                  <button type="button" onClick={() => void showDiff(datasetId, { fromId: s.id, toId: null })}>
                    Changes since
                  </button>{' '}
                  <button
                    type="button"
                    onClick={() =>
                      confirm(
                        `Restore the labels of “${s.name}”? Each label that differs gets a new event; one undo (Ctrl+Z) takes them all back.`,
                      ) && void restore(s)
                    }
                  >
                    Restore
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row">
        <label className="muted">
          Diff from{' '}
          <select aria-label="Diff from" value={from} onChange={(e) => setFrom(e.target.value)}>
            <option value="">the dataset as imported</option>
            {snapshots.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label className="muted">
          to{' '}
          <select aria-label="Diff to" value={to} onChange={(e) => setTo(e.target.value)}>
            <option value="">the labels in force now</option>
            {snapshots.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void showDiff(datasetId, { fromId: id(from), toId: id(to) })}>
          Show changes
        </button>
      </div>
      {diff && diffEnds && diff.datasetId === datasetId && <DiffTable diff={diff} />}
    </>
  );
}
