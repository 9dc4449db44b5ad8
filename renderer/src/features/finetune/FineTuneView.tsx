// Fine-tune: what a fine-tune of the chosen dataset would use (corrections, hard negatives, examples), a sheet
// with defaults and a time estimate, then the running job (progress, loss and lr curves, log, cancel) and, when
// it is done, the new model version evaluated before and after, side by side.
import { useEffect, useRef, useState } from 'react';
import type { FineTune, FineTunePreview, FineTuneSettings, ModelVersion } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { ProgressBar } from '../../components/ProgressBar';
import { fmtDuration, fmtInt, fmtTime } from '../../format';
import { useApp } from '../../stores/app';
import { useDatasets } from '../datasets/store';
import { useFineTune } from './store';
import { useJobs } from '../jobs/store';
import { toastError } from '../../stores/toasts';
import { RunComparison } from '../eval/RunComparison';
import { FineTuneChart } from './FineTuneChart';
import { LabelChanges } from '../labels/SnapshotDiff';
import './finetune.css';

const REFRESH_MS = 700;
const live = (ft: FineTune | null) => ft !== null && (ft.job.state === 'running' || ft.job.state === 'queued');

function Counts({ p }: { p: FineTunePreview }) {
  const rows: [string, number][] = [
    ['Corrections', p.counts.corrections],
    ...(p.kind === 'nlvr2'
      ? []
      : ([
          ['Hard negatives', p.counts.hardNegatives],
          ['Extra positives', p.counts.extraPositives],
        ] as [string, number][])),
    ['Training examples', p.counts.examples],
    ...(p.counts.pendingLeftOut
      ? ([['Corrections awaiting review (left out)', p.counts.pendingLeftOut]] as [string, number][])
      : []),
  ];
  return (
    <table className="table" data-testid="finetune-counts">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <td>{k}</td>
            <td className="num">{fmtInt(v)}</td>
          </tr>
        ))}
        <tr>
          <td>Evaluated on</td>
          <td className="num">{p.heldOutSplit} (held out, before and after)</td>
        </tr>
      </tbody>
    </table>
  );
}

function estimateSeconds(p: FineTunePreview, s: FineTuneSettings): { steps: number; seconds: number } {
  const steps = s.maxSteps ?? s.epochs * Math.max(1, Math.floor(p.counts.examples / s.batchSize));
  return { steps, seconds: (steps * s.batchSize) / Math.max(1e-6, p.estimate.samplesPerSecond) };
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <label className="row ft-field">
      <span>{label}</span>
      {children}
    </label>
  );
}

function Sheet({ p, onClose }: { p: FineTunePreview; onClose(): void }) {
  const [s, setS] = useState<FineTuneSettings>(p.defaults);
  const [models, setModels] = useState<ModelVersion[]>([]);
  const start = useFineTune((st) => st.start);
  useEffect(() => {
    void mome().listModels({}).then(setModels).catch(toastError);
  }, []);
  const num = (k: keyof FineTuneSettings) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setS({ ...s, [k]: e.target.value === '' ? null : Number(e.target.value) });
  const est = estimateSeconds(p, s);
  return (
    <div className="ft-panel" data-testid="finetune-sheet">
      <h2>Fine-tune</h2>
      <p>{p.summary}</p>
      <Counts p={p} />
      <Field label="Task">
        <span>
          {s.task === 'nlvr2'
            ? 'NLVR2 (cross-entropy on the corrected labels)'
            : 'Retrieval (ITC + ITM with hard negatives)'}
        </span>
      </Field>
      <Field label="Base model">
        {models.length ? (
          <select value={s.baseModelId ?? ''} onChange={(e) => setS({ ...s, baseModelId: Number(e.target.value) })}>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} ({m.version}){m.active ? ' — active' : ''}
              </option>
            ))}
          </select>
        ) : (
          <span>{p.baseModel?.name ?? 'none: import a model in Models first'}</span>
        )}
      </Field>
      <Field label="Epochs">
        <input type="number" min={1} max={100} value={s.epochs} onChange={num('epochs')} />
      </Field>
      <Field label="Learning rate">
        <input type="number" step="any" min={0} value={s.lr} onChange={num('lr')} />
      </Field>
      <Field label="Batch size">
        <input type="number" min={2} value={s.batchSize} onChange={num('batchSize')} />
      </Field>
      <Field label="Max steps">
        <input type="number" min={1} placeholder="epochs decide" value={s.maxSteps ?? ''} onChange={num('maxSteps')} />
      </Field>
      <Field label="Device">
        <select value={s.device} onChange={(e) => setS({ ...s, device: e.target.value as FineTuneSettings['device'] })}>
          <option value="auto">auto (GPU when PyTorch sees one)</option>
          <option value="cuda">GPU (CUDA)</option>
          <option value="cpu">CPU</option>
        </select>
      </Field>
      <Field label="Mode">
        <select value={s.mode} onChange={(e) => setS({ ...s, mode: e.target.value as FineTuneSettings['mode'] })}>
          <option value="auto">auto (fast on CPU for large models)</option>
          <option value="full">full: every layer trains</option>
          <option value="fast">fast: heads only, on cached features</option>
        </select>
      </Field>
      <p data-testid="finetune-estimate">
        About <strong>{fmtDuration(est.seconds * 1000)}</strong> for {fmtInt(est.steps)} steps on the CPU (
        {p.estimate.basis === 'measured'
          ? 'measured on an earlier fine-tune here'
          : 'rough estimate from the model size'}
        ), plus evaluating before and after.
      </p>
      {!p.python.found && (
        <p className="message toast-error" data-testid="python-missing">
          {p.python.message}
        </p>
      )}
      <div className="row">
        <button
          type="button"
          disabled={!p.python.found || !p.baseModel}
          onClick={() => void start(s).then((ok) => ok && onClose())}
        >
          Start
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}

function BeforeAfter({ ft }: { ft: FineTune }) {
  const [model, setModel] = useState<ModelVersion | null>(null);
  const [version, setVersion] = useState(0); // bumped after make active / delete to read the model again
  const [labelChanges, setLabelChanges] = useState(false);
  useEffect(() => {
    if (ft.modelId === null) return;
    void mome()
      .listModels({ includeRemoved: true })
      .then((ms) => setModel(ms.find((m) => m.id === ft.modelId) ?? null))
      .catch(toastError);
  }, [ft.modelId, version]);
  if (ft.modelId === null || ft.beforeRunId === null || ft.afterRunId === null) return null;
  const act = (p: Promise<unknown>) =>
    void p
      .then(() => useApp.getState().load())
      .then(() => setVersion((v) => v + 1))
      .catch(toastError);
  return (
    <div className="ft-panel" data-testid="before-after">
      <h2>Before and after</h2>
      <div className="row">
        <span>
          New version <strong>{model?.name ?? ft.modelId}</strong>{' '}
          {model && <span className="muted">{model.version}</span>}
        </span>
        {model && model.removedAt === null && !model.active && (
          <button type="button" onClick={() => act(mome().setActiveModel({ id: model.id }))}>
            Make active
          </button>
        )}
        {model?.active && <strong>active</strong>}
        {model && model.removedAt === null && (
          <button
            type="button"
            onClick={() =>
              confirm(`Delete ${model.name}? Its folder is removed; its evaluation runs stay.`) &&
              act(mome().removeModel({ id: model.id }))
            }
          >
            Delete
          </button>
        )}
        {model?.removedAt && <span className="tag">deleted</span>}
      </div>
      <RunComparison a={ft.beforeRunId} b={ft.afterRunId} />
      {ft.labelSnapshotId != null && (
        <p>
          <button type="button" onClick={() => setLabelChanges((v) => !v)} aria-expanded={labelChanges}>
            {labelChanges ? 'Hide' : 'Show'} the labels that changed since the parent was trained
          </button>
        </p>
      )}
      {labelChanges && ft.labelSnapshotId != null && (
        <LabelChanges datasetId={ft.datasetId} fromId={ft.parentLabelSnapshotId ?? null} toId={ft.labelSnapshotId} />
      )}
    </div>
  );
}

function Detail({ ft }: { ft: FineTune }) {
  const cancel = useJobs((s) => s.cancel);
  const total = ft.counts.steps ?? ft.points.at(-1)?.step ?? 0;
  const last = ft.points.at(-1);
  return (
    <div data-testid="finetune-detail">
      <div className="ft-panel">
        <div className="row">
          <strong>{ft.job.title}</strong>
          <span className={`state-${ft.job.state}`} data-testid="finetune-state">
            {ft.job.state}
          </span>
          <span className="spacer" />
          {live(ft) && (
            <button type="button" onClick={() => void cancel(ft.jobId)}>
              Cancel
            </button>
          )}
          {ft.resumable && !live(ft) && (
            <button type="button" onClick={() => void useFineTune.getState().resume(ft.jobId)}>
              Resume from the checkpoint
            </button>
          )}
        </div>
        <ProgressBar value={ft.job.progress} label="fine-tune progress" />
        <p className="muted">{ft.job.error ?? ft.job.message}</p>
        {ft.mode && (
          <p>
            <strong>{ft.mode}</strong> mode: {ft.modeReason}. {ft.device}.
          </p>
        )}
        <FineTuneChart points={ft.points} total={total} />
        {last && (
          <p className="muted">
            step {fmtInt(last.step)}, loss {last.loss.toFixed(4)}, lr {last.lr.toExponential(2)}
            {last.samplesPerS !== null && `, ${last.samplesPerS.toFixed(1)} samples/s`}
            {ft.dataSnapshot && `; data snapshot ${ft.dataSnapshot.slice(0, 12)}`}
          </p>
        )}
        <details open={live(ft) || ft.job.state === 'failed'}>
          <summary>Log</summary>
          <pre className="ft-log" data-testid="finetune-log">
            {ft.logTail.slice(-40).join('\n')}
          </pre>
        </details>
      </div>
      <BeforeAfter ft={ft} />
    </div>
  );
}

function History({
  list,
  selected,
  onSelect,
}: {
  list: FineTune[];
  selected: number | null;
  onSelect(id: number): void;
}) {
  if (!list.length) return <p className="muted">No fine-tunes of this dataset yet.</p>;
  return (
    <table className="table" data-testid="finetune-list">
      <thead>
        <tr>
          <th>Job</th>
          <th>State</th>
          <th>Task</th>
          <th className="num">Steps</th>
          <th>Started</th>
        </tr>
      </thead>
      <tbody>
        {list.map((f) => (
          <tr
            key={f.jobId}
            className={f.jobId === selected ? 'selected' : ''}
            onClick={() => onSelect(f.jobId)}
            style={{ cursor: 'pointer' }}
          >
            <td>{f.jobId}</td>
            <td className={`state-${f.job.state}`}>{f.job.state}</td>
            <td>{f.task}</td>
            <td className="num">{f.points.at(-1)?.step ?? 0}</td>
            <td>{fmtTime(f.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FineTuneView() {
  const datasets = useDatasets((s) => s.list);
  const chosen = useDatasets((s) => s.selectedId);
  const { datasetId, preview, previewError, list, selected, detail } = useFineTune();
  const [sheet, setSheet] = useState(false);
  const jobState = useJobs((s) => (selected ? s.byId[selected] : undefined));
  const lastRefresh = useRef(0);
  useEffect(() => {
    if (datasets.length === 0) void useDatasets.getState().load();
  }, [datasets.length]);
  useEffect(() => {
    if (datasetId === null && chosen !== null) void useFineTune.getState().setDataset(chosen);
  }, [datasetId, chosen]);
  useEffect(() => {
    // follow the selected job: its curve and log grow while it runs (read at most every 0.7 s), its runs arrive
    // at the end (read at once when the state changes)
    if (Date.now() - lastRefresh.current < REFRESH_MS && jobState?.state === 'running') return;
    lastRefresh.current = Date.now();
    void useFineTune.getState().refreshDetail();
    void useFineTune.getState().loadList();
  }, [jobState?.progress, jobState?.state]);
  return (
    <section className="view">
      <div className="row">
        <label>
          Dataset{' '}
          <select
            value={datasetId ?? ''}
            data-testid="finetune-dataset"
            onChange={(e) => void useFineTune.getState().setDataset(Number(e.target.value))}
          >
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.kind})
              </option>
            ))}
          </select>
        </label>
        {preview && <span data-testid="finetune-summary">{preview.summary}</span>}
        <span className="spacer" />
        <button type="button" disabled={!preview} onClick={() => setSheet(true)}>
          Fine-tune…
        </button>
      </div>
      {previewError && <p className="message toast-error">{previewError}</p>}
      {datasets.length === 0 && <p className="empty">Import a dataset first (Datasets).</p>}
      {sheet && preview && <Sheet p={preview} onClose={() => setSheet(false)} />}
      <History list={list} selected={selected} onSelect={(id) => void useFineTune.getState().select(id)} />
      {detail && <Detail ft={detail} />}
    </section>
  );
}
