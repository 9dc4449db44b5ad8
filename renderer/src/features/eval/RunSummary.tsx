// A run at a glance: for retrieval, where the ground truth ranks and the score margins (histograms) and the
// misses at R@k; for NLVR2, the confusion matrix of given label against prediction.
import { useEffect, useState } from 'react';
import type { EvalSummary } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { fmtInt } from '../../format';
import { useEval, type EvalTask } from './store';
import { toastError } from '../../stores/toasts';
import { Histogram } from './Histogram';

export function ConfusionMatrix({ c }: { c: NonNullable<EvalSummary['confusion']> }) {
  const total = c.trueTrue + c.trueFalse + c.falseTrue + c.falseFalse;
  const cell = (n: number, right: boolean) => (
    <td className={`num ${right ? 'better' : 'worse'}`}>
      {fmtInt(n)} <span className="muted">({total ? ((100 * n) / total).toFixed(1) : '0.0'}%)</span>
    </td>
  );
  return (
    <table className="table compact confusion" data-testid="confusion">
      <thead>
        <tr>
          <th>Label ↓ · Prediction →</th>
          <th className="num">True</th>
          <th className="num">False</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th>True</th>
          {cell(c.trueTrue, true)}
          {cell(c.trueFalse, false)}
        </tr>
        <tr>
          <th>False</th>
          {cell(c.falseTrue, false)}
          {cell(c.falseFalse, true)}
        </tr>
      </tbody>
    </table>
  );
}

export function RunSummary({ runId, task }: { runId: number; task: EvalTask }) {
  const [s, setS] = useState<EvalSummary | null>(null);
  const setFilter = useEval((st) => st.setFilter);
  useEffect(() => {
    let stale = false;
    mome()
      .getEvalSummary({ runId })
      .then((x) => !stale && setS(x))
      .catch((e) => toastError(e));
    return () => {
      stale = true;
    };
  }, [runId]);
  if (!s) return null;
  if (task === 'nlvr2') return <div className="summary">{s.confusion && <ConfusionMatrix c={s.confusion} />}</div>;
  const h = (kind: 'caption' | 'image', what: 'rank' | 'margin') =>
    s.histograms.find((x) => x.kind === kind && x.what === what)?.bins ?? [];
  const missed = (kind: 'caption' | 'image', at: number) =>
    s.missed.find((m) => m.kind === kind && m.at === at)?.count ?? 0;
  return (
    <div className="summary" data-testid="summary">
      <Histogram
        title="Rank of each caption's image"
        bins={h('caption', 'rank')}
        highlight={(b) => b.from === 1}
        testId="hist-caption-rank"
      />
      <Histogram title="Rank of each image's best caption" bins={h('image', 'rank')} highlight={(b) => b.from === 1} />
      <Histogram
        title="Caption margin: own image − best other"
        bins={h('caption', 'margin')}
        highlight={(b) => b.to <= 0}
        testId="hist-caption-margin"
      />
      <div className="missed">
        {(['caption', 'image'] as const).map((kind) =>
          [1, 5].map((at) => (
            <button
              key={`${kind}${at}`}
              type="button"
              className="link"
              onClick={() => setFilter(task, { kind, minRank: at, order: 'rank' })}
            >
              {kind === 'caption' ? 'Captions' : 'Images'} missed at R@{at}: <strong>{fmtInt(missed(kind, at))}</strong>{' '}
              of {fmtInt(s.totals[kind] ?? 0)}
            </button>
          )),
        )}
      </div>
    </div>
  );
}
