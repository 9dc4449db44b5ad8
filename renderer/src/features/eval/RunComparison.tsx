// Two runs of the same dataset and split side by side: each metric with its delta over the same queries, the
// paired 95% interval of the delta and what it amounts to (better, worse, no detectable difference; NLVR2 by
// the exact McNemar test), the items run b fixed and broke, and the groups of them that changed most; clicking one opens it in the inspection view (of run b).
import { useEffect, useState } from 'react';
import type { EvalComparison, EvalFlip, MetricDifference } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';
import { fmtInt, METRIC_LABELS } from '../../format';
import { ChangedSlices } from './ChangedSlices';
import { useEval } from './store';
import './eval.css';

const pct = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)}%`);
const signed = (v: number | null) => (v === null ? '—' : `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}`);
const interval = (d: MetricDifference | undefined) =>
  d ? `${signed(d.ci95[0]).replace('±', '')} to ${signed(d.ci95[1]).replace('±', '')}` : '—';
const verdictClass = (d: MetricDifference | undefined) =>
  d?.label === 'better' ? 'better' : d?.label === 'worse' ? 'worse' : 'muted';
const rankText = (r: number | null, kind: EvalFlip['kind']) =>
  r === null ? '—' : kind === 'nlvr2' ? (r === 0 ? 'right' : 'wrong') : `#${r + 1}`;

function FlipList({ title, items, total, runId }: { title: string; items: EvalFlip[]; total: number; runId: number }) {
  const openItem = useEval((s) => s.openItem);
  return (
    <div className="flips" data-testid={`flips-${title.toLowerCase()}`}>
      <h3>
        {title} <span className="muted">{fmtInt(total)}</span>
      </h3>
      {items.length === 0 ? (
        <p className="empty">None.</p>
      ) : (
        <ul>
          {items.map((f) => (
            <li key={`${f.kind}:${f.key}`}>
              <button type="button" className="link" onClick={() => openItem({ runId, kind: f.kind, key: f.key })}>
                <span className="muted">
                  {f.kind} {f.key}
                </span>{' '}
                {f.text ?? ''}
              </button>
              <span className="num muted">
                {rankText(f.rankA, f.kind)} → {rankText(f.rankB, f.kind)}
              </span>
            </li>
          ))}
          {total > items.length && <li className="muted">… and {fmtInt(total - items.length)} more</li>}
        </ul>
      )}
    </div>
  );
}

export function RunComparison({ a, b }: { a: number; b: number }) {
  const [at, setAt] = useState<1 | 5 | 10>(1);
  const [cmp, setCmp] = useState<EvalComparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stale = false;
    setError(null);
    mome()
      .compareEvalRuns({ a, b, at, limit: 500 })
      .then((c) => !stale && setCmp(c))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [a, b, at]);
  if (error) return <p className="empty">{error}</p>;
  if (!cmp)
    return (
      <p className="muted">
        Comparing runs {a} and {b}…
      </p>
    );
  return (
    <div className="run-comparison" data-testid="run-comparison">
      <table className="table">
        <thead>
          <tr>
            <th>Metric</th>
            <th className="num">
              Run {cmp.a.id} <span className="muted">{cmp.a.modelName}</span>
            </th>
            <th className="num">
              Run {cmp.b.id} <span className="muted">{cmp.b.modelName}</span>
            </th>
            <th className="num">Δ</th>
            <th className="num" title="Paired bootstrap over the queries in both runs">
              95% interval of Δ
            </th>
            <th>Difference</th>
          </tr>
        </thead>
        <tbody>
          {cmp.metrics.map((m) => {
            const d = cmp.differences?.find((x) => x.name === m.name);
            // the paired Δ (same queries in both runs) where there is one; else the plain one
            const delta = d ? d.delta : m.delta;
            return (
              <tr key={m.name} data-testid={`difference-${m.name}`}>
                <td>{METRIC_LABELS[m.name] ?? m.name}</td>
                <td className="num">{pct(m.a)}</td>
                <td className="num">{pct(m.b)}</td>
                <td className="num">{signed(delta)}</td>
                <td className="num">{interval(d)}</td>
                <td className={verdictClass(d)} data-testid="difference-label">
                  {d ? d.label : 'no per-query ranks'}
                  {d?.mcnemar && (
                    <span
                      className="muted"
                      title={`Exact McNemar test: right only in run ${cmp.a.id}: ${d.mcnemar.rightOnlyInA}, only in run ${cmp.b.id}: ${d.mcnemar.rightOnlyInB}`}
                    >
                      {' '}
                      (McNemar p = {d.mcnemar.p < 0.001 ? d.mcnemar.p.toExponential(1) : d.mcnemar.p.toFixed(3)})
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {cmp.a.task === 'retrieval' && (
        <div className="row">
          <span className="muted">A query counts as a hit at</span>
          {([1, 5, 10] as const).map((k) => (
            <label key={k}>
              <input type="radio" name="flip-at" checked={at === k} onChange={() => setAt(k)} /> R@{k}
            </label>
          ))}
          <span className="muted">
            {fmtInt(cmp.totals.compared)} queries in both runs ({cmp.a.split})
          </span>
        </div>
      )}
      <div className="flip-columns">
        <FlipList title="Fixed" items={cmp.fixed} total={cmp.totals.fixed} runId={cmp.b.id} />
        <FlipList title="Broken" items={cmp.broken} total={cmp.totals.broken} runId={cmp.b.id} />
      </div>
      <ChangedSlices a={cmp.a.id} b={cmp.b.id} task={cmp.a.task} />
    </div>
  );
}
