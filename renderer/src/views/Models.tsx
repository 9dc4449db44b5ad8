import { useCallback, useEffect, useState } from 'react';
import type { ModelVersion } from '../../../electron/api/schemas';
import { errorMessage, mome } from '../api/mome';
import { PathField } from '../components/PathField';
import { fmtBytes, fmtTime } from '../format';
import { useApp } from '../stores/app';
import { useJobs } from '../stores/jobs';
import { useToasts } from '../stores/toasts';

const fail = (e: unknown) => useToasts.getState().push(errorMessage(e));

export function ModelsView() {
  const [models, setModels] = useState<ModelVersion[]>([]);
  const [source, setSource] = useState('');
  const [vocab, setVocab] = useState('');
  const info = useApp((s) => s.info);
  const finished = useJobs(
    (s) => Object.values(s.byId).filter((j) => j.kind === 'model-import' && j.state !== 'running').length,
  );
  const load = useCallback(() => void mome().listModels({}).then(setModels).catch(fail), []);
  useEffect(load, [load, finished, info?.activeModel?.version]);

  const start = async () => {
    try {
      useJobs
        .getState()
        .apply(await mome().startModelImport({ path: source.replace(/\/+$/, ''), vocab: vocab || undefined }));
    } catch (e) {
      fail(e);
    }
  };
  return (
    <section className="view">
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
            {models.map((m) => {
              const a = m.architecture as Record<string, unknown>;
              return (
                <tr key={m.id} data-model={m.name}>
                  <td>
                    {m.active ? (
                      <strong>active</strong>
                    ) : (
                      <button
                        type="button"
                        onClick={() =>
                          void mome()
                            .setActiveModel({ id: m.id })
                            .then(() => useApp.getState().load())
                            .catch(fail)
                        }
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
                  <td className="num">{fmtBytes(m.sizeBytes)}</td>
                  <td className="path" title={m.sourceSha256 ?? ''}>
                    {m.sourcePath}
                  </td>
                  <td>{fmtTime(m.createdAt)}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        confirm(`Remove ${m.name}? Its evaluation runs stay.`) &&
                        void mome().removeModel({ id: m.id }).then(load).catch(fail)
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {info?.activeModel && (
        <p className="muted" data-testid="model-provider">
          Runs on {info.activeModel.provider.toUpperCase()}: {info.activeModel.providerReason}
        </p>
      )}
      <h2 className="section">Import a checkpoint or a model folder</h2>
      <div className="row">
        <PathField value={source} onChange={setSource} label="Checkpoint or model folder" files />
        <PathField value={vocab} onChange={setVocab} label="BERT vocab.txt (if not found automatically)" files />
        <button type="button" disabled={!source.startsWith('/')} onClick={() => void start()}>
          Import
        </button>
      </div>
    </section>
  );
}
