// Starts an evaluation job: split (or every split, for the label-error ranking), model folder (empty: the
// active model), and for retrieval the ITM re-rank switch with its k.
import { useState } from 'react';
import type { Dataset } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { PathField } from '../../components/PathField';
import { useJobs } from '../jobs/store';
import { toastError } from '../../stores/toasts';
import type { EvalTask } from './store';

export const ALL_SPLITS = '*';
export const splitName = (s: string) => (s === ALL_SPLITS ? 'all splits' : s);

export function RunForm({ task, ds, onStarted }: { task: EvalTask; ds: Dataset; onStarted(): void }) {
  const splits = Object.keys(ds.splits);
  const preferred = task === 'nlvr2' ? 'dev' : 'test';
  const [split, setSplit] = useState(splits.includes(preferred) ? preferred : (splits[0] ?? preferred));
  const [modelDir, setModelDir] = useState('');
  const [rerank, setRerank] = useState(false);
  const [rerankK, setRerankK] = useState(10);
  const start = async () => {
    try {
      const job = await mome().startEvaluation({
        task,
        datasetId: ds.id,
        split,
        modelDir: modelDir.replace(/\/+$/, '') || undefined,
        rerankK: task === 'retrieval' && rerank ? rerankK : 0,
      });
      useJobs.getState().apply(job);
      onStarted();
    } catch (e) {
      toastError(e);
    }
  };
  return (
    <div className="row">
      <select aria-label="Split" value={split} onChange={(e) => setSplit(e.target.value)}>
        {splits.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
        <option value={ALL_SPLITS}>all splits (label errors)</option>
      </select>
      <PathField value={modelDir} onChange={setModelDir} label="Model folder (empty: the active model)" />
      {task === 'retrieval' && (
        <label title="Score each query's top k again with the fusion encoder's image-text matching head">
          <input type="checkbox" checked={rerank} onChange={(e) => setRerank(e.target.checked)} /> Re-rank top{' '}
          <input
            type="number"
            aria-label="Re-rank k"
            min={1}
            max={100}
            value={rerankK}
            disabled={!rerank}
            onChange={(e) => setRerankK(Math.max(1, Math.min(100, Number(e.target.value) || 1)))}
            style={{ width: '4em' }}
          />{' '}
          with ITM
        </label>
      )}
      <button type="button" onClick={() => void start()}>
        Run
      </button>
    </div>
  );
}
