import { useCallback, useEffect, useState } from 'react';
import type { Job, ModelCard, ModelVersion } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { ModelCardView } from './ModelCard';
import { JobTable } from '../jobs/JobRow';
import { PathField } from '../../components/PathField';
import { PythonInterpreters } from './PythonInterpreters';
import { useNow } from '../../components/useNow';
import { fmtBytes, fmtTime } from '../../format';
import { useApp } from '../../stores/app';
import { useDatasets } from '../datasets/store';
import { useJobs } from '../jobs/store';
import { toastError } from '../../stores/toasts';

function ModelRow({
  m,
  selected,
  onSelect,
  onChanged,
}: {
  m: ModelVersion;
  selected: boolean;
  onSelect(): void;
  onChanged(): void;
}) {
  const a = m.architecture;
  const removed = m.removedAt !== null;
  return (
    <tr
      data-model={m.name}
      className={`${selected ? 'selected' : ''}${removed ? ' muted' : ''}`}
      onClick={onSelect}
      style={{ cursor: 'pointer' }}
    >
      <td>
        {removed ? (
          <span className="tag">removed</span>
        ) : m.active ? (
          <strong>active</strong>
        ) : (
          <button
            type="button"
            onClick={(e) => {
              e.stopPropagation();
              void mome()
                .setActiveModel({ id: m.id })
                .then(() => useApp.getState().load())
                .then(onChanged)
                .catch(toastError);
            }}
          >
            Make active
          </button>
        )}
      </td>
      <td>{m.name}</td>
      <td className="path">{m.version}</td>
      <td className="num">{String(a.num_layers ?? '—')}</td>
      <td className="num">{String(a.hidden_size ?? '—')}</td>
      <td className="num">{String(a.num_heads ?? '—')}</td>
      <td className="num">{a.image_size ? `${String(a.image_size)} px` : '—'}</td>
      <td>{Array.isArray(a.heads) ? a.heads.join(', ') : '—'}</td>
      <td className="num">{removed ? '—' : fmtBytes(m.sizeBytes)}</td>
      <td className="path" title={m.sourceSha256 ?? ''}>
        {m.sourcePath}
      </td>
      <td>{fmtTime(m.createdAt)}</td>
      <td>
        {!removed && (
          <button
            type="button"
            onClick={(e) => {
              e.stopPropagation();
              if (confirm(`Remove ${m.name}? Its folder is deleted; its evaluation runs stay, marked as removed.`))
                void mome().removeModel({ id: m.id }).then(onChanged).catch(toastError);
            }}
          >
            Remove
          </button>
        )}
      </td>
    </tr>
  );
}

/** Where models run and the explicit CPU choice. */
function ProviderChoice({ onChanged }: { onChanged(): void }) {
  const info = useApp((s) => s.info);
  const [device, setDevice] = useState<'auto' | 'cpu'>('auto');
  const chosen = info?.activeModel?.device;
  useEffect(() => {
    if (chosen) setDevice(chosen);
  }, [chosen]);
  return (
    <div className="row">
      <label>
        Execution device{' '}
        <select
          aria-label="Execution device"
          value={device}
          onChange={(e) => {
            const next = e.target.value as 'auto' | 'cpu';
            setDevice(next);
            void mome()
              .setModelDevice({ device: next })
              .then(() => useApp.getState().load())
              .then(onChanged)
              .catch(toastError);
          }}
        >
          <option value="auto">Automatic (CUDA where available, else CPU)</option>
          <option value="cpu">CPU</option>
        </select>
      </label>
      {info?.activeModel && (
        <span className="muted" data-testid="model-provider">
          Runs on {info.activeModel.provider.toUpperCase()}: {info.activeModel.providerReason}
        </span>
      )}
    </div>
  );
}

function ImportForm() {
  const [source, setSource] = useState('');
  const [vocab, setVocab] = useState('');
  const [jobIds, setJobIds] = useState<number[]>([]);
  const byId = useJobs((s) => s.byId);
  const now = useNow();
  const start = async () => {
    try {
      const job = await mome().startModelImport({ path: source.replace(/\/+$/, ''), vocab: vocab || undefined });
      useJobs.getState().apply(job);
      setJobIds((ids) => [job.id, ...ids]);
    } catch (e) {
      toastError(e);
    }
  };
  const mine = jobIds.map((id) => byId[id]).filter((j): j is Job => Boolean(j));
  // the newest import: when it failed, say why (and ask for the vocabulary when that is what was missing)
  const newest = useJobs((s) =>
    Object.values(s.byId)
      .filter((j) => j.kind === 'model-import')
      .reduce<Job | undefined>((a, j) => (!a || j.id > a.id ? j : a), undefined),
  );
  const failed = newest?.state === 'failed' ? newest : undefined;
  const needsVocab = failed?.error?.includes('no vocabulary found');
  return (
    <>
      <h2 className="section">Import a checkpoint or a model folder</h2>
      <div className="row">
        <PathField
          value={source}
          onChange={setSource}
          label="Checkpoint or model folder"
          files
          pick={[
            {
              kind: 'file',
              title: 'Choose a VLMo checkpoint',
              extensions: ['pt', 'pth', 'ckpt', 'bin', 'safetensors'],
              button: 'Checkpoint…',
            },
            { kind: 'folder', title: 'Choose a model folder (with mome.json)', button: 'Folder…' },
          ]}
        />
        <PathField
          value={vocab}
          onChange={setVocab}
          label="BERT vocab.txt (if not found automatically)"
          files
          pick={{ kind: 'file', title: "Choose bert-base-uncased's vocab.txt", extensions: ['txt'], button: 'Vocab…' }}
        />
        <button type="button" disabled={!source.startsWith('/')} onClick={() => void start()}>
          Import
        </button>
      </div>
      {mine.length > 0 && <JobTable jobs={mine} now={now} />}
      {failed && (
        <p className={needsVocab ? 'error' : 'muted'} data-testid="model-import-error">
          {needsVocab
            ? "The checkpoint needs bert-base-uncased's vocab.txt (30,522 lines) and none was found next to it or in the Hugging Face cache: name it above and import again. It is remembered for later imports."
            : `Last import failed: ${failed.error}`}
        </p>
      )}
    </>
  );
}

export function ModelsView() {
  const [models, setModels] = useState<ModelVersion[]>([]);
  const [showRemoved, setShowRemoved] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const [card, setCard] = useState<ModelCard | null>(null);
  const info = useApp((s) => s.info);
  const finished = useJobs(
    (s) =>
      Object.values(s.byId).filter((j) => ['model-import', 'evaluation'].includes(j.kind) && j.state !== 'running')
        .length,
  );
  const load = useCallback(
    () =>
      void mome()
        .listModels({ includeRemoved: showRemoved })
        .then((list) => {
          setModels(list);
          setSelected((s) =>
            s !== null && list.some((m) => m.id === s) ? s : (list.find((m) => m.active)?.id ?? null),
          );
        })
        .catch(toastError),
    [showRemoved],
  );
  useEffect(load, [load, finished, info?.activeModel?.version, info?.activeModel?.providerReason]);
  useEffect(() => void useDatasets.getState().load(), []);
  // models changed elsewhere (another window, the CLI, a finished fine-tune): re-read the list
  useEffect(() => mome().on('dataChanged', (e) => e.entity === 'models' && load()), [load]);
  useEffect(() => {
    if (selected === null) return setCard(null);
    mome().getModelCard({ id: selected }).then(setCard).catch(toastError);
  }, [selected, models]);

  return (
    <section className="view">
      <ProviderChoice onChanged={load} />
      {models.length === 0 ? (
        <p className="empty">
          No model imported yet. Import an official VLMo checkpoint (.pt) — it is converted to ONNX as a job — or a
          model folder (mome.json + graphs).
        </p>
      ) : (
        <table className="table" data-testid="model-table">
          <thead>
            <tr>
              <th>Active</th>
              <th>Name</th>
              <th>Version</th>
              <th className="num">Layers</th>
              <th className="num">Width</th>
              <th className="num">Heads</th>
              <th className="num">Image</th>
              <th>Heads present</th>
              <th className="num">Size</th>
              <th>Source</th>
              <th>Imported</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <ModelRow
                key={m.id}
                m={m}
                selected={m.id === selected}
                onSelect={() => setSelected(m.id)}
                onChanged={load}
              />
            ))}
          </tbody>
        </table>
      )}
      <label className="muted">
        <input type="checkbox" checked={showRemoved} onChange={(e) => setShowRemoved(e.target.checked)} /> Show removed
        models (their evaluation runs are kept)
      </label>
      {card && <ModelCardView card={card} />}
      <ImportForm />
      <PythonInterpreters />
    </section>
  );
}
