// The runs of a dataset for one task, newest first, beside each other: metrics with their 95% bootstrap
// intervals over queries, options, provider, time. A retrieval run also shows each R@K with the "also a match"
// marks counted as correct ("with M") and mAP@R over all positives, recomputed after every mark.
// Clicking a row shows that run; the "vs" column picks a second run to compare it with.
import { useEffect, useState } from 'react';
import type { EvalMarkedMetrics, EvalRun } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { useLabels } from '../labels/store';
import { toastError } from '../../stores/toasts';
import { splitName } from './RunForm';
import { METRIC_LABELS } from '../../format';

const RETRIEVAL = ['tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10'];
const fmtPct = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(1)}%`);

type Figure = keyof EvalMarkedMetrics['original'];

/**
 * Each retrieval run's figures with the "also a match" marks, re-read whenever a label changes (here or in
 * another client): a pass over the run's stored items, no re-encoding.
 */
function useMarkedMetrics(runs: EvalRun[], task: 'retrieval' | 'nlvr2'): Map<number, EvalMarkedMetrics> {
  const [byRun, setByRun] = useState(new Map<number, EvalMarkedMetrics>());
  const labels = useLabels((s) => s.version);
  const ids = task === 'retrieval' ? runs.map((r) => r.id).join(',') : '';
  useEffect(() => {
    if (!ids) return setByRun(new Map());
    let stale = false;
    Promise.all(ids.split(',').map((id) => mome().getEvalMetricsWithMarks({ runId: Number(id) })))
      .then((all) => !stale && setByRun(new Map(all.map((m) => [m.runId, m]))))
      .catch((e) => !stale && toastError(e));
    return () => {
      stale = true;
    };
  }, [ids, labels]);
  return byRun;
}

const markedTitle = (m: EvalMarkedMetrics) =>
  `With the ${m.extraPositives.pairs} "also a match" marks of this run's captions and images counted as correct, ` +
  `where they appear in a query's stored top ${m.k}; a mark ranked below it counts as missed ` +
  `(finding it needs re-scoring): ${m.extraPositives.outsideCaptionTopK} outside the caption queries' lists, ` +
  `${m.extraPositives.outsideImageTopK} outside the image queries'.`;

/**
 * A metric, under it its 95% interval over the run's queries, and its figure with the extra positives once the
 * run has any ("also a match" marks of its captions and images).
 */
function MetricCell({ run, name, marked }: { run: EvalRun; name: string; marked?: EvalMarkedMetrics }) {
  const ci = run.ci95?.[name];
  const x = marked?.withExtras[name as Figure];
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
      {marked && marked.extraPositives.pairs > 0 && x !== undefined && (
        <span className="with-extras" data-testid="metric-with-extras" data-metric={name} title={markedTitle(marked)}>
          with M {x.toFixed(1)}%
        </span>
      )}
    </td>
  );
}

/** mAP@R over all positives (with the marks), the original under it; a lower bound where R exceeds k. */
function MapCell({ marked, name }: { marked?: EvalMarkedMetrics; name: 'tr_map_r' | 'ir_map_r' }) {
  if (!marked) return <td className="num">—</td>;
  const lower = name === 'tr_map_r' ? marked.lowerBound.trMapQueries : marked.lowerBound.irMapQueries;
  return (
    <td
      className="num"
      title={
        `mAP@R over every positive (its own ${name === 'tr_map_r' ? 'captions' : 'image'} and the "also a match" ` +
        `marks) within the stored top ${marked.k}` +
        (lower ? `; a lower bound: ${lower} queries have more positives than ${marked.k}` : '')
      }
    >
      <span data-testid="map-r-with-extras" data-metric={name}>
        {lower ? '≥ ' : ''}
        {marked.withExtras[name].toFixed(1)}%
      </span>
      <span className="ci">original {marked.original[name].toFixed(1)}%</span>
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
  const marked = useMarkedMetrics(runs, task);
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
          {task === 'retrieval' && (
            <>
              <th className="num" title="mAP@R of image queries over all positives, with the marks">
                TR mAP@R
              </th>
              <th className="num" title="mAP@R of caption queries over all positives, with the marks">
                IR mAP@R
              </th>
              <th>Re-rank</th>
            </>
          )}
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
              <MetricCell key={m} run={r} name={m} marked={marked.get(r.id)} />
            ))}
            {task === 'retrieval' && (
              <>
                <MapCell marked={marked.get(r.id)} name="tr_map_r" />
                <MapCell marked={marked.get(r.id)} name="ir_map_r" />
              </>
            )}
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
