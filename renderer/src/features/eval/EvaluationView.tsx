// Retrieval and NLVR2 evaluation: run a model on a split (a job), the runs beside each other, and for the
// selected run: its queries worst first with the inspection panel and histograms, the embedding map, the
// likely label errors of the whole dataset, and a comparison with a second run.
import { useCallback, useEffect, useState } from 'react';
import type { EvalRun } from '../../../../electron/api/schemas';
import { DatasetOptions } from '../../components/DatasetOptions';
import { mome } from '../../api/mome';
import { useDatasets } from '../datasets/store';
import { useEval, type EvalTab, type EvalTask } from './store';
import { useJobs } from '../jobs/store';
import { toastError } from '../../stores/toasts';
import { EmbeddingMap } from './EmbeddingMap';
import { WholeMap } from './map/WholeMap';
import { FailureSlices } from './FailureSlices';
import { LikelyErrors } from './LikelyErrors';
import { Nlvr2Item } from './Nlvr2Item';
import { QueryList } from './QueryList';
import { ReportExport } from './ReportExport';
import { RetrievalItem } from './RetrievalItem';
import { useItemDetail } from './useItemDetail';
import { RunComparison } from './RunComparison';
import { RunForm } from './RunForm';
import { RunSummary } from './RunSummary';
import { RunningEvals } from './RunningEvals';
import { RunsTable } from './RunsTable';
import { SearchPanel } from '../search/SearchPanel';
import './eval.css';

/** The runs of a dataset for a task, refreshed when an evaluation job finishes. */
function useRuns(datasetId: number | null, task: EvalTask): EvalRun[] {
  const [runs, setRuns] = useState<EvalRun[]>([]);
  const finished = useJobs(
    (s) => Object.values(s.byId).filter((j) => j.kind === 'evaluation' && j.state === 'succeeded').length,
  );
  useEffect(() => {
    if (!datasetId) return;
    let stale = false;
    mome()
      .listEvalRuns({ datasetId })
      .then((r) => !stale && setRuns(r.filter((x) => x.task === task)))
      .catch((e) => toastError(e));
    return () => {
      stale = true;
    };
  }, [datasetId, task, finished]);
  return runs;
}

function Inspection({ run, task }: { run: EvalRun; task: EvalTask }) {
  const focus = useEval((s) => s.focus);
  const detail = useItemDetail(focus && focus.runId === run.id ? focus : null);
  return (
    <>
      <RunSummary runId={run.id} task={task} />
      <div className="inspect" data-testid="inspect">
        <QueryList runId={run.id} task={task} />
        {detail &&
          (detail.kind === 'nlvr2' ? (
            <Nlvr2Item d={detail} datasetId={run.datasetId} />
          ) : (
            <RetrievalItem d={detail} datasetId={run.datasetId} />
          ))}
      </div>
    </>
  );
}

export function EvaluationView({ task }: { task: EvalTask }) {
  const datasets = useDatasets((s) => s.list).filter((d) =>
    task === 'nlvr2' ? d.kind === 'nlvr2' : d.kind !== 'nlvr2',
  );
  const loadDatasets = useDatasets((s) => s.load);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const runId = useEval((s) => s.runByTask[task]);
  const compare = useEval((s) => s.compareWith[task]);
  const tab = useEval((s) => s.tab[task]);
  const { selectRun, setCompare, setTab } = useEval.getState();
  const ds = datasets.find((d) => d.id === datasetId) ?? datasets[0] ?? null;
  const runs = useRuns(ds?.id ?? null, task);

  useEffect(() => {
    void loadDatasets();
  }, [loadDatasets]);
  // a run opened from elsewhere (a comparison, likely errors) brings its dataset along
  useEffect(() => {
    if (!runId || runs.some((r) => r.id === runId)) return;
    mome()
      .listEvalRuns({})
      .then((all) => {
        const r = all.find((x) => x.id === runId);
        if (r) setDatasetId(r.datasetId);
      })
      .catch(() => undefined);
  }, [runId, runs]);
  useEffect(() => {
    if (runs.length && !runs.some((r) => r.id === runId)) selectRun(task, runs[0].id);
  }, [runs, runId, task, selectRun]);
  const onStarted = useCallback(() => selectRun(task, null), [task, selectRun]);

  if (!ds) {
    return (
      <section className="view">
        <p className="empty">
          No {task === 'nlvr2' ? 'NLVR2' : 'COCO or Flickr30K'} dataset imported yet. Import one in Datasets, then
          evaluate it here.
        </p>
      </section>
    );
  }
  const run = runs.find((r) => r.id === runId) ?? null;
  const tabs: [EvalTab, string][] = [
    ['queries', task === 'nlvr2' ? 'Predictions' : 'Queries'],
    ...(task === 'retrieval'
      ? [['map', 'Embedding map'] as [EvalTab, string], ['whole', 'Whole map'] as [EvalTab, string]]
      : []),
    ['errors', 'Likely label errors'],
    ['slices', 'Failure slices'],
    ['compare', compare ? `Compare with run ${compare}` : 'Compare'],
  ];
  return (
    <section className="view evaluation">
      <div className="row">
        <select aria-label="Dataset" value={ds.id} onChange={(e) => setDatasetId(Number(e.target.value))}>
          <DatasetOptions datasets={datasets} />
        </select>
        <RunForm key={ds.id} task={task} ds={ds} onStarted={onStarted} />
      </div>
      <RunningEvals task={task} datasetId={ds.id} />
      {task === 'retrieval' && <SearchPanel datasetId={ds.id} splits={Object.keys(ds.splits)} />}
      {runs.length === 0 ? (
        <p className="empty">
          No evaluation of this dataset yet. Choose a split and Run: images and captions are encoded (cached for the
          next run) and scored as the paper does.
        </p>
      ) : (
        <RunsTable
          runs={runs}
          task={task}
          selected={runId}
          compare={compare}
          onSelect={(id) => selectRun(task, id)}
          onCompare={(id) => {
            setCompare(task, id);
            if (id) setTab(task, 'compare');
          }}
        />
      )}
      {run && (
        <>
          <div className="tabs" role="tablist">
            {tabs.map(([id, label]) => (
              <button
                key={id}
                type="button"
                role="tab"
                aria-selected={tab === id}
                className={tab === id ? 'active' : ''}
                onClick={() => setTab(task, id)}
              >
                {label}
              </button>
            ))}
          </div>
          <ReportExport runId={run.id} compareRunId={tab === 'compare' ? compare : null} />
          {tab === 'queries' && <Inspection run={run} task={task} />}
          {tab === 'map' && task === 'retrieval' && <EmbeddingMap runId={run.id} />}
          {tab === 'whole' && task === 'retrieval' && <WholeMap runId={run.id} />}
          {tab === 'errors' && (
            <LikelyErrors
              task={task}
              datasetId={ds.id}
              runs={runs}
              model={{ name: run.modelName, dir: run.modelDir }}
            />
          )}
          {tab === 'slices' && <FailureSlices run={run} />}
          {tab === 'compare' &&
            (compare ? (
              <RunComparison a={compare} b={run.id} />
            ) : (
              <p className="empty">Tick “vs” on another run of the same split to compare it with run {run.id}.</p>
            ))}
        </>
      )}
    </section>
  );
}
