// "Slices that changed most": for two runs of one split, the groups of queries (as the failure slices form them:
// words, word pairs, length, split) that run b fixed and broke most against run a, each with both runs' metric,
// the paired Δ with its 95% interval and label, and how many queries moved each way. A group opens into those
// queries; a query opens in the inspection view (of run b).
import { useEffect, useState } from 'react';
import type { ChangedSlices as Changed } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';
import { fmtInt, METRIC_LABELS } from '../../format';
import { SliceQueryPicker } from './SliceQueryPicker';
import { useEval } from './store';

const pp = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}`;
const rankText = (r: number, kind: Changed['kind']) => (kind === 'nlvr2' ? (r === 0 ? 'right' : 'wrong') : `#${r + 1}`);

function SliceList({ title, slices, found }: { title: string; slices: Changed['fixed']; found: Changed }) {
  const [open, setOpen] = useState<string | null>(null);
  const openItem = useEval((s) => s.openItem);
  return (
    <div className="flips" data-testid={`changed-${title.toLowerCase()}`}>
      <h3>{title}</h3>
      {slices.length === 0 ? (
        <p className="empty">No group of at least {fmtInt(found.minSupport)} queries.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Group</th>
              <th className="num">Size</th>
              <th className="num">
                {found.a} → {found.b}
              </th>
              <th className="num">Δ (95% interval)</th>
              <th className="num" title="Queries fixed / broken">
                +/−
              </th>
            </tr>
          </thead>
          <tbody>
            {slices.map((s) => {
              const key = `${s.feature}:${s.value}`;
              const items = title === 'Fixed most' ? s.fixedItems : s.brokenItems;
              return (
                <tr key={key} data-testid="changed-slice">
                  <td>
                    <button type="button" className="link" onClick={() => setOpen(open === key ? null : key)}>
                      {s.label}
                    </button>
                    {open === key && (
                      <ul className="slice-missed">
                        {items.map((m) => (
                          <li key={m.key}>
                            <button
                              type="button"
                              className="link"
                              onClick={() => openItem({ runId: found.b, kind: found.kind, key: m.key })}
                            >
                              {m.text ?? m.key}
                            </button>{' '}
                            <span className="muted num">
                              {rankText(m.rankA, found.kind)} → {rankText(m.rankB, found.kind)}
                            </span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td className="num">{fmtInt(s.size)}</td>
                  <td className="num">
                    {s.a.toFixed(1)}% → {s.b.toFixed(1)}%
                  </td>
                  <td
                    className={`num ${s.significance === 'better' ? 'better' : s.significance === 'worse' ? 'worse' : 'muted'}`}
                  >
                    {pp(s.delta)} ({pp(s.ci95[0])} to {pp(s.ci95[1])})
                  </td>
                  <td className="num">
                    +{fmtInt(s.fixedCount)} / −{fmtInt(s.brokenCount)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function ChangedSlices({ a, b, task }: { a: number; b: number; task: 'retrieval' | 'nlvr2' }) {
  const [kind, setKind] = useState<'caption' | 'image'>('caption');
  const [at, setAt] = useState<1 | 5 | 10>(1);
  const [found, setFound] = useState<Changed | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stale = false;
    setError(null);
    mome()
      .findChangedSlices({ a, b, kind: task === 'nlvr2' ? 'nlvr2' : kind, at, minSupport: 30, limit: 8 })
      .then((s) => !stale && setFound(s))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [a, b, task, kind, at]);
  return (
    <div className="changed-slices" data-testid="changed-slices">
      <h3>Slices that changed most</h3>
      <div className="row">
        {task === 'retrieval' && (
          <SliceQueryPicker
            label="Changed slices queries"
            name="changed-at"
            kind={kind}
            setKind={setKind}
            at={at}
            setAt={setAt}
          />
        )}
        {found && (
          <span className="muted">
            {METRIC_LABELS[found.metric] ?? found.metric}, run {found.b} against run {found.a}: {pp(found.whole.delta)}{' '}
            over {fmtInt(found.queries)} queries ({pp(found.whole.ci95[0])} to {pp(found.whole.ci95[1])});{' '}
            {fmtInt(found.tested)} groups of at least {fmtInt(found.minSupport)}, ranked by how surely they moved
          </span>
        )}
      </div>
      {error && <p className="empty">{error}</p>}
      {found && (
        <div className="flip-columns">
          <SliceList title="Fixed most" slices={found.fixed} found={found} />
          <SliceList title="Broken most" slices={found.broke} found={found} />
        </div>
      )}
    </div>
  );
}
