import { useEffect } from 'react';
import type { LabelEvent } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { useBrowse } from '../browse/store';
import { useNav } from '../../stores/nav';
import { toastError } from '../../stores/toasts';
import { fmtInt, fmtTime } from '../../format';
import { useDatasets } from '../datasets/store';
import { useLabels } from './store';

/** A datetime-local value (local time, to the minute) as the ISO instant the history stores; `pad` ms added. */
const toIso = (local: string, pad = 0) => (local ? new Date(new Date(local).getTime() + pad).toISOString() : undefined);
const show = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/** Opens the item a label is about in Browse, in its item panel. */
async function open(e: LabelEvent) {
  try {
    const found = await mome().findLabelItem({ datasetId: e.datasetId, kind: e.kind, key: e.key });
    useDatasets.getState().select(e.datasetId);
    useBrowse.getState().show(e.datasetId, (found.image ?? found.example)!);
    useNav.getState().go('browse');
  } catch (err) {
    toastError(err);
  }
}

export function LabelsView() {
  const { events, total, counts, filter, load, revert, version } = useLabels();
  const datasets = useDatasets((s) => s.list);
  useEffect(() => {
    void load();
  }, [load, version]);
  const name = (id: number) => datasets.find((d) => d.id === id)?.name ?? `dataset ${id} (removed)`;
  return (
    <section className="view">
      <div className="row">
        <select
          aria-label="Filter dataset"
          value={filter.datasetId ?? ''}
          onChange={(e) => void load({ ...filter, datasetId: e.target.value ? Number(e.target.value) : undefined })}
        >
          <option value="">All datasets</option>
          {datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
        <select
          aria-label="Filter kind"
          value={filter.kind ?? ''}
          onChange={(e) => void load({ ...filter, kind: (e.target.value || undefined) as typeof filter.kind })}
        >
          <option value="">All kinds</option>
          <option value="caption">Captions</option>
          <option value="image">Images</option>
          <option value="nlvr2">NLVR2 examples</option>
          <option value="pair">Hard negatives / extra positives</option>
        </select>
        <input
          aria-label="Filter author"
          placeholder="Author"
          defaultValue={filter.author ?? ''}
          onKeyDown={(e) => e.key === 'Enter' && void load({ ...filter, author: e.currentTarget.value || undefined })}
        />
        <label className="muted">
          from{' '}
          <input
            type="datetime-local"
            aria-label="Filter from time"
            onChange={(e) => void load({ ...filter, since: toIso(e.target.value) })}
          />
        </label>
        <label className="muted">
          to{' '}
          <input
            type="datetime-local"
            aria-label="Filter to time"
            onChange={(e) => void load({ ...filter, until: toIso(e.target.value, 59_999) })}
          />
        </label>
        <span className="muted num">{fmtInt(total)} label events</span>
      </div>
      {counts.length > 0 && (
        <p className="muted" data-testid="label-counts">
          {counts.map((c) => (
            <span key={`${c.datasetId}|${c.kind}|${c.field}`} style={{ marginRight: 18, whiteSpace: 'nowrap' }}>
              {name(c.datasetId)} · {c.kind} {c.field}: <strong>{fmtInt(c.n)}</strong>
            </span>
          ))}
        </p>
      )}
      {events.length === 0 ? (
        <p className="empty">
          No corrections yet. Open an item in Browse and edit it (keys shown beside each action); every change lands
          here, revertable.
        </p>
      ) : (
        <table className="table" data-testid="label-table">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>When</th>
              <th>Who</th>
              <th>Dataset</th>
              <th>Item</th>
              <th>Field</th>
              <th>Old</th>
              <th>New</th>
              <th>Action</th>
              <th>View</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td className="num">{e.id}</td>
                <td>{fmtTime(e.createdAt)}</td>
                <td>{e.author}</td>
                <td>{name(e.datasetId)}</td>
                <td>
                  <button type="button" className="link" title="Open it in Browse" onClick={() => void open(e)}>
                    {e.kind} {e.key}
                  </button>
                </td>
                <td>{e.field}</td>
                <td>{show(e.oldValue)}</td>
                <td>{show(e.newValue)}</td>
                <td>{e.action}</td>
                <td>{e.view ?? '—'}</td>
                <td>
                  <button type="button" onClick={() => void revert(e.id)}>
                    Revert
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
