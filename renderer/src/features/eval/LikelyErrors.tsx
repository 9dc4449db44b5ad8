// "Likely label errors": the items of the whole dataset (every split) whose given label the model most
// confidently disagrees with — a caption that matches another image far better than its own, an NLVR2
// statement whose label the model confidently contradicts. Read from the newest all-splits run.
import { useEffect, useState } from 'react';
import type { EvalItem, EvalRun } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { fmtInt } from '../../format';
import { useEval, type EvalTask } from './store';
import { useJobs } from '../jobs/store';
import { toastError } from '../../stores/toasts';
import { ALL_SPLITS } from './RunForm';

/** `model` is the selected run's: its model ranks the whole dataset. */
export function LikelyErrors({
  task,
  datasetId,
  runs,
  model,
}: {
  task: EvalTask;
  datasetId: number;
  runs: EvalRun[];
  model: { name: string; dir: string };
}) {
  const run = runs.find((r) => r.split === ALL_SPLITS) ?? null;
  const [items, setItems] = useState<EvalItem[]>([]);
  const [total, setTotal] = useState(0);
  const openItem = useEval((s) => s.openItem);
  useEffect(() => {
    if (!run) return setItems([]);
    let stale = false;
    mome()
      .getEvalItems({ runId: run.id, kind: task === 'nlvr2' ? 'nlvr2' : 'caption', order: 'mistakenness', limit: 500 })
      .then((p) => {
        if (stale) return;
        setItems(p.items);
        setTotal(p.total);
      })
      .catch((e) => toastError(e));
    return () => {
      stale = true;
    };
  }, [run, task]);
  const start = async () => {
    try {
      useJobs
        .getState()
        .apply(await mome().startEvaluation({ task, datasetId, split: ALL_SPLITS, modelDir: model.dir }));
    } catch (e) {
      toastError(e);
    }
  };
  return (
    <div className="likely-errors" data-testid="likely-errors">
      <div className="row">
        <button type="button" onClick={() => void start()}>
          {run ? 'Rank again' : 'Rank likely label errors'} across all splits with {model.name}
        </button>
        {run && (
          <span className="muted">
            Run {run.id} ({run.modelName}) · {fmtInt(total)} {task === 'nlvr2' ? 'examples' : 'captions'}, most likely
            wrong first
          </span>
        )}
      </div>
      {!run ? (
        <p className="empty">
          Evaluates the model on every split of this dataset and lists what it most confidently disagrees with: label
          noise usually sits in the training split.
        </p>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>{task === 'nlvr2' ? 'Example' : 'Caption'}</th>
              <th>Split</th>
              <th>Text</th>
              <th
                className="num"
                title={task === 'nlvr2' ? 'probability of the other label' : 'best other image − own'}
              >
                Score
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((it, j) => (
              <tr key={it.key} onClick={() => openItem({ runId: run.id, kind: it.kind, key: it.key })}>
                <td className="num">{j + 1}</td>
                <td>{it.key}</td>
                <td>{it.split ?? '—'}</td>
                <td>{it.text}</td>
                <td className="num">{it.mistakenness.toFixed(3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
