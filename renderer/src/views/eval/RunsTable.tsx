// The runs of a dataset for one task, newest first, beside each other: metrics with their 95% bootstrap
// intervals over queries, options, provider, time.
// Clicking a row shows that run; the "vs" column picks a second run to compare it with.
import type { EvalRun } from '../../../../electron/api/schemas';
import { splitName } from './RunForm';
import { METRIC_LABELS } from '../../format';

const RETRIEVAL = ['tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10'];
const fmtPct = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(1)}%`);

/** A metric and, under it, its 95% interval over the run's queries. */
function MetricCell({ run, name }: { run: EvalRun; name: string }) {
  const ci = run.ci95?.[name];
  return (
    <td className="num">
      {fmtPct(run.metrics[name])}
      {ci && (
        <span
          className="ci"
          data-testid="metric-ci"
          title={`95% bootstrap interval over the run's queries (${run.bootstrap?.resamples ?? 1000} resamples)`}
        >
          {ci[0].toFixed(1)}–{ci[1].toFixed(1)}
        </span>
      )}
    </td>
  );
}

export function RunsTable({
  runs,
  task,
  selected,
  compare,
  onSelect,
  onCompare,
}: {
  runs: EvalRun[];
  task: 'retrieval' | 'nlvr2';
  selected: number | null;
  compare: number | null;
  onSelect(id: number): void;
  onCompare(id: number | null): void;
}) {
  const metrics = task === 'retrieval' ? RETRIEVAL : ['accuracy'];
  return (
    <table className="table" data-testid="eval-runs">
      <thead>
        <tr>
          <th className="num">Run</th>
          <th>Model</th>
          <th>Split</th>
          {metrics.map((m) => (
            <th key={m} className="num">
              {METRIC_LABELS[m]}
            </th>
          ))}
          {task === 'retrieval' && <th>Re-rank</th>}
          <th>Provider</th>
          <th className="num">Time</th>
          <th title="Compare the selected run with this one">vs</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} className={r.id === selected ? 'selected' : ''} onClick={() => onSelect(r.id)}>
            <td className="num">{r.id}</td>
            <td>{r.modelName}</td>
            <td>{splitName(r.split)}</td>
            {metrics.map((m) => (
              <MetricCell key={m} run={r} name={m} />
            ))}
            {task === 'retrieval' && (
              <td>{r.options.rerank === 'itm' ? `ITM top ${String(r.options.rerankK)}` : '—'}</td>
            )}
            <td>{r.provider}</td>
            <td className="num">{r.seconds.toFixed(1)} s</td>
            <td onClick={(e) => e.stopPropagation()}>
              {r.id !== selected && (
                <input
                  type="checkbox"
                  aria-label={`Compare with run ${r.id}`}
                  checked={compare === r.id}
                  onChange={(e) => onCompare(e.target.checked ? r.id : null)}
                />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
