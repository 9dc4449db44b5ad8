// "Failure slices": the groups of the run's queries (a word or word pair of the caption or statement, its
// length, the split) whose metric falls furthest below the whole run's, each with its size, metric and gap
// with 95% intervals, and whether it is still worse allowing for every group looked at. A group opens into
// its missed queries; a query opens in the inspection view.
import { useEffect, useState } from 'react';
import type { EvalRun, FailureSlices as Slices } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';
import { fmtInt, METRIC_LABELS } from '../../format';
import { SliceQueryPicker } from './SliceQueryPicker';
import { useEval } from './store';

const pp = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}`;
const range = ([lo, hi]: [number, number], f: (v: number) => string) => `${f(lo)} to ${f(hi)}`;

export function FailureSlices({ run }: { run: EvalRun }) {
  const [kind, setKind] = useState<'caption' | 'image'>('caption');
  const [at, setAt] = useState<1 | 5 | 10>(run.task === 'nlvr2' ? 1 : 5);
  const [minSupport, setMinSupport] = useState(30);
  const [found, setFound] = useState<Slices | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const openItem = useEval((s) => s.openItem);
  useEffect(() => {
    let stale = false;
    setError(null);
    mome()
      .findFailureSlices({ runId: run.id, kind: run.task === 'nlvr2' ? 'nlvr2' : kind, at, minSupport })
      .then((s) => !stale && setFound(s))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [run.id, run.task, kind, at, minSupport]);
  return (
    <div className="failure-slices" data-testid="failure-slices">
      <div className="row">
        {run.task === 'retrieval' && (
          <SliceQueryPicker label="Slice queries" name="slice-at" kind={kind} setKind={setKind} at={at} setAt={setAt} />
        )}
        <label>
          at least{' '}
          <input
            type="number"
            aria-label="Minimum support"
            min={5}
            value={minSupport}
            onChange={(e) => setMinSupport(Math.max(5, Number(e.target.value) || 5))}
            style={{ width: '5em' }}
          />{' '}
          queries per group
        </label>
      </div>
      {error && <p className="empty">{error}</p>}
      {found && (
        <>
          <p className="muted">
            {METRIC_LABELS[found.metric] ?? found.metric} over all {fmtInt(found.whole.size)} queries:{' '}
            {found.whole.metric.toFixed(1)}% ({range(found.whole.ci95, (v) => v.toFixed(1))}); the groups below do worst
            against it ({fmtInt(found.candidates)} looked at).
          </p>
          {found.slices.length === 0 ? (
            <p className="empty">No group of at least {minSupport} queries does worse than the whole run.</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Group</th>
                  <th className="num">Queries</th>
                  <th className="num">{METRIC_LABELS[found.metric] ?? found.metric}</th>
                  <th className="num">Gap to all (points)</th>
                  <th
                    title={`Allowing for all ${found.tested} groups looked at (Bonferroni): is the group still worse?`}
                  >
                    Across {fmtInt(found.tested)} groups
                  </th>
                </tr>
              </thead>
              <tbody>
                {found.slices.map((s) => {
                  const id = `${s.feature}:${s.value}`;
                  return [
                    <tr
                      key={id}
                      data-testid="slice"
                      className={open === id ? 'selected' : ''}
                      onClick={() => setOpen(open === id ? null : id)}
                    >
                      <td>{s.label}</td>
                      <td className="num">
                        {fmtInt(s.size)} <span className="muted">({fmtInt(s.missedCount)} missed)</span>
                      </td>
                      <td className="num">
                        {s.metric.toFixed(1)}%<span className="ci">{range(s.ci95, (v) => v.toFixed(1))}</span>
                      </td>
                      <td className={`num ${s.gapBound < 0 ? 'worse' : ''}`}>
                        {pp(s.gap)}
                        <span className="ci">{range(s.gapCi95, pp)}</span>
                      </td>
                      <td className={s.gapBound < 0 ? 'worse' : 'muted'} data-testid="slice-holds">
                        {s.gapBound < 0 ? 'worse' : 'may be chance'}
                      </td>
                    </tr>,
                    open === id && (
                      <tr key={`${id}:items`}>
                        <td colSpan={5}>
                          <ul className="slice-items" data-testid="slice-items">
                            {s.missed.map((m) => (
                              <li key={m.key}>
                                <button
                                  type="button"
                                  className="link"
                                  onClick={() => openItem({ runId: run.id, kind: found.kind, key: m.key })}
                                >
                                  <span className="muted">{found.kind === 'nlvr2' ? 'wrong' : `#${m.rank + 1}`}</span>{' '}
                                  {m.text ?? m.key}
                                </button>
                              </li>
                            ))}
                          </ul>
                        </td>
                      </tr>
                    ),
                  ];
                })}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}
