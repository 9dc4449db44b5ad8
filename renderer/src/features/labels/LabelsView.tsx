import { useEffect, useState } from 'react';
import type { LabelEvent } from '../../../../electron/api/schemas';
import { DatasetOptions } from '../../components/DatasetOptions';
import { mome } from '../../api/mome';
import { useBrowse } from '../browse/store';
import { useNav } from '../../stores/nav';
import { toastError } from '../../stores/toasts';
import { fmtInt, fmtTime } from '../../format';
import { useDatasets } from '../datasets/store';
import { useLabels } from './store';
import { ReviewPanel } from './ReviewPanel';
import { SnapshotsPanel } from './SnapshotsPanel';
import { useReview, type LabelsTab } from './review-store';

const TABS: [LabelsTab, string][] = [
  ['history', 'History'],
  ['review', 'Review'],
  ['snapshots', 'Snapshots'],
];

/** The project's setting "corrections need review", and the user name label events are written under. */
function LabelSettingsBar() {
  const { settings, loadSettings, saveSettings } = useReview();
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    void loadSettings();
  }, [loadSettings]);
  if (!settings) return null;
  const shown = name ?? settings.userName ?? '';
  const save = () => {
    if (name !== null && name !== (settings.userName ?? '')) void saveSettings({ userName: name || null });
    setName(null);
  };
  return (
    <div className="row" data-testid="label-settings">
      <label>
        <input
          type="checkbox"
          checked={settings.reviewRequired}
          onChange={(e) => void saveSettings({ reviewRequired: e.target.checked })}
        />{' '}
        Corrections need review
      </label>
      <label className="muted">
        User name{' '}
        <input
          aria-label="User name"
          placeholder={settings.defaultUserName}
          value={shown}
          maxLength={200}
          onChange={(e) => setName(e.target.value)}
          onBlur={save}
          onKeyDown={(e) => e.key === 'Enter' && save()}
        />
      </label>
      <span className="muted">
        {settings.reviewRequired
          ? 'A correction is pending until someone else accepts it; exports and fine-tunes leave pending ones out.'
          : 'Corrections are in force as soon as they are made.'}
      </span>
    </div>
  );
}

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
  const { tab, setTab, choose, datasetId } = useReview();
  const version = useLabels((s) => s.version);
  const datasets = useDatasets((s) => s.list);
  const filterDataset = useLabels((s) => s.filter.datasetId);
  // the Review and Snapshots tabs are about one dataset: the one filtered on, else the first
  const chosen = filterDataset ?? datasetId ?? datasets[0]?.id ?? null;
  useEffect(() => {
    if (tab !== 'history') choose(chosen);
  }, [tab, chosen, version, choose]);
  return (
    <section className="view">
      <LabelSettingsBar />
      <div className="tabs" role="tablist">
        {TABS.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={tab === id}
            className={tab === id ? 'active' : ''}
            onClick={() => setTab(id)}
          >
            {label}
          </button>
        ))}
      </div>
      {tab === 'history' && <History />}
      {tab !== 'history' && (
        <div className="row">
          <select
            aria-label="Dataset"
            value={chosen ?? ''}
            onChange={(e) => {
              const id = Number(e.target.value);
              void useLabels.getState().load({ ...useLabels.getState().filter, datasetId: id });
            }}
          >
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {tab === 'review' && <ReviewPanel />}
      {tab === 'snapshots' && <SnapshotsPanel />}
    </section>
  );
}

function History() {
  const { events, total, counts, filter, load, revert, version } = useLabels();
  const datasets = useDatasets((s) => s.list);
  useEffect(() => {
    void load();
  }, [load, version]);
  const name = (id: number) => datasets.find((d) => d.id === id)?.name ?? `dataset ${id} (removed)`;
  return (
    <>
      <div className="row">
        <select
          aria-label="Filter dataset"
          value={filter.datasetId ?? ''}
          onChange={(e) => void load({ ...filter, datasetId: e.target.value ? Number(e.target.value) : undefined })}
        >
          <option value="">All datasets</option>
          <DatasetOptions datasets={datasets} />
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
    </>
  );
}
