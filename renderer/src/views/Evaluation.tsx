// Retrieval and NLVR2 evaluation: run a model on a split (a job), the runs with their metrics, and the
// worst queries first. On a retrieval query: J/K move between the top images, H marks the selected one a
// hard negative, M "also a match", N goes to the next query.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { EvalItem, EvalRun, ImageItem } from '../../../electron/api/schemas';
import { errorMessage, mediaUrl, mome } from '../api/mome';
import { PathField } from '../components/PathField';
import { fmtInt } from '../format';
import { useDatasets } from '../stores/datasets';
import { useEval } from '../stores/eval';
import { useJobs } from '../stores/jobs';
import { useLabels } from '../stores/labels';
import { useToasts } from '../stores/toasts';

const fmtPct = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(1)}%`);

function useImagesBySource(datasetId: number | null, sourceIds: string[]): Record<string, ImageItem> {
  const [map, setMap] = useState<Record<string, ImageItem>>({});
  const key = sourceIds.join(',');
  useEffect(() => {
    if (!datasetId || !key) return;
    let stale = false;
    // the split is small enough to page through once; the grid needs only paths and first captions
    (async () => {
      const out: Record<string, ImageItem> = {};
      for (let offset = 0; ; offset += 1000) {
        const page = await mome().browseImages({ datasetId, offset, limit: 1000 });
        for (const it of page.items) out[it.sourceId] = it;
        if (offset + 1000 >= page.total) break;
      }
      if (!stale) setMap(out);
    })().catch(() => undefined);
    return () => {
      stale = true;
    };
  }, [datasetId, key]);
  return map;
}

export function EvaluationView({ task }: { task: 'retrieval' | 'nlvr2' }) {
  const datasets = useDatasets((s) => s.list).filter((d) =>
    task === 'nlvr2' ? d.kind === 'nlvr2' : d.kind !== 'nlvr2',
  );
  const loadDatasets = useDatasets((s) => s.load);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [split, setSplit] = useState(task === 'nlvr2' ? 'dev' : 'test');
  const [modelDir, setModelDir] = useState('');
  const [runs, setRuns] = useState<EvalRun[]>([]);
  const runId = useEval((s) => s.runByTask[task]);
  const focus = useEval((s) => s.focus);
  const setRunId = useCallback(
    (next: number | null | ((cur: number | null) => number | null)) => {
      const cur = useEval.getState().runByTask[task];
      useEval.getState().selectRun(task, typeof next === 'function' ? next(cur) : next);
    },
    [task],
  );
  const [items, setItems] = useState<EvalItem[]>([]);
  const [cursor, setCursor] = useState(0);
  const [pick, setPick] = useState(0);
  const byId = useJobs((s) => s.byId);
  const edit = useLabels((s) => s.edit);
  const ds = datasets.find((d) => d.id === datasetId) ?? datasets[0] ?? null;
  // an item opened from elsewhere (a comparison, the map) brings its run's dataset along
  useEffect(() => {
    if (!focus) return;
    mome()
      .listEvalRuns({})
      .then((all) => {
        const r = all.find((x) => x.id === focus.runId);
        if (r) setDatasetId(r.datasetId);
      })
      .catch(() => undefined);
  }, [focus]);

  useEffect(() => {
    void loadDatasets();
  }, [loadDatasets]);
  const refresh = useCallback(() => {
    if (!ds) return;
    mome()
      .listEvalRuns({ datasetId: ds.id })
      .then((r) => {
        const mine = r.filter((x) => x.task === task);
        setRuns(mine);
        setRunId((cur) => cur ?? mine[0]?.id ?? null);
      })
      .catch((e) => useToasts.getState().push(errorMessage(e)));
  }, [ds, task, setRunId]);
  const finishedCount = Object.values(byId).filter((j) => j.kind === 'evaluation' && j.state === 'succeeded').length;
  useEffect(refresh, [refresh, finishedCount]);
  useEffect(() => {
    if (!runId) return;
    mome()
      .getEvalItems({ runId, kind: task === 'nlvr2' ? 'nlvr2' : 'caption', order: 'mistakenness', limit: 200 })
      .then((p) => {
        setItems(p.items);
        const f = useEval.getState().focus;
        const at = f && f.runId === runId ? p.items.findIndex((it) => it.kind === f.kind && it.key === f.key) : -1;
        setCursor(Math.max(0, at));
        setPick(0);
      })
      .catch((e) => useToasts.getState().push(errorMessage(e)));
  }, [runId, task]);

  const run = runs.find((r) => r.id === runId) ?? null;
  const images = useImagesBySource(task === 'retrieval' && ds ? ds.id : null, items.length ? ['loaded'] : []);
  const current = items[cursor];
  const top = useMemo(() => current?.top ?? [], [current]);

  const mark = useCallback(
    (relation: 'hard_negative' | 'also_match') => {
      if (!ds || !current || !top[pick] || !run) return;
      const imgid = String(top[pick][0]);
      void edit(
        [{ datasetId: ds.id, kind: 'pair', key: `${current.key}|${imgid}`, field: 'relation', value: relation }],
        'retrieval',
      ).then(
        (ok) =>
          ok &&
          useToasts.getState().push(`caption ${current.key} × image ${imgid}: ${relation.replace('_', ' ')}`, 'info'),
      );
    },
    [ds, current, top, pick, run, edit],
  );
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || ['INPUT', 'SELECT'].includes((e.target as HTMLElement).tagName)) return;
      const k = e.key.toLowerCase();
      if (k === 'n') setCursor((c) => Math.min(c + 1, items.length - 1));
      else if (k === 'p') setCursor((c) => Math.max(c - 1, 0));
      else if (k === 'j') setPick((p) => Math.min(p + 1, top.length - 1));
      else if (k === 'k') setPick((p) => Math.max(p - 1, 0));
      else if (k === 'h' && task === 'retrieval') mark('hard_negative');
      else if (k === 'm' && task === 'retrieval') mark('also_match');
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [items.length, top.length, mark, task]);

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
  const start = async () => {
    try {
      const job = await mome().startEvaluation({
        task,
        datasetId: ds.id,
        split,
        modelDir: modelDir.replace(/\/+$/, '') || undefined,
      });
      useJobs.getState().apply(job);
      setRunId(null);
    } catch (e) {
      useToasts.getState().push(errorMessage(e));
    }
  };
  const caption = (sentid: string) => sentid;
  return (
    <section className="view">
      <div className="row">
        <select aria-label="Dataset" value={ds.id} onChange={(e) => setDatasetId(Number(e.target.value))}>
          {datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
        <select aria-label="Split" value={split} onChange={(e) => setSplit(e.target.value)}>
          {Object.keys(ds.splits).map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <PathField value={modelDir} onChange={setModelDir} label="Model folder (empty: the embedded model)" />
        <button type="button" onClick={() => void start()}>
          Run
        </button>
      </div>
      {runs.length === 0 ? (
        <p className="empty">
          No evaluation of this dataset yet. Choose a split and Run: images and captions are encoded (cached for the
          next run) and scored as the paper does.
        </p>
      ) : (
        <table className="table" data-testid="eval-runs">
          <thead>
            <tr>
              <th className="num">Run</th>
              <th>Model</th>
              <th>Split</th>
              {task === 'retrieval' ? (
                ['TR@1', 'TR@5', 'TR@10', 'IR@1', 'IR@5', 'IR@10'].map((h) => (
                  <th key={h} className="num">
                    {h}
                  </th>
                ))
              ) : (
                <th className="num">Accuracy</th>
              )}
              <th>Provider</th>
              <th className="num">Time</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} className={r.id === runId ? 'selected' : ''} onClick={() => setRunId(r.id)}>
                <td className="num">{r.id}</td>
                <td>{r.modelName}</td>
                <td>{r.split}</td>
                {task === 'retrieval' ? (
                  ['tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10'].map((m) => (
                    <td key={m} className="num">
                      {fmtPct(r.metrics[m])}
                    </td>
                  ))
                ) : (
                  <td className="num">{fmtPct(r.metrics.accuracy)}</td>
                )}
                <td>{r.provider}</td>
                <td className="num">{r.seconds.toFixed(1)} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {run && current && (
        <div className="inspect" data-testid="inspect">
          <h2 className="section">
            Likely label errors first — {cursor + 1} of {fmtInt(items.length)} (<kbd>N</kbd>/<kbd>P</kbd> next/previous
            {task === 'retrieval' ? (
              <>
                , <kbd>J</kbd>/<kbd>K</kbd> pick an image, <kbd>H</kbd> hard negative, <kbd>M</kbd> also a match
              </>
            ) : null}
            )
          </h2>
          {task === 'retrieval' ? (
            <>
              <p>
                Caption <strong>#{caption(current.key)}</strong>: its image ranks{' '}
                {current.rank !== null ? current.rank + 1 : '—'}; margin {current.mistakenness.toFixed(3)}
              </p>
              <div className="topk">
                {top.map(([imgid, score], j) => {
                  const img = images[String(imgid)];
                  return (
                    <figure key={j} className={j === pick ? 'picked' : ''} onClick={() => setPick(j)}>
                      {img ? (
                        <img className="thumb" src={mediaUrl(img.path, 256)} alt={`image ${imgid}`} />
                      ) : (
                        <div className="thumb loading" />
                      )}
                      <figcaption>
                        #{j + 1} · image {imgid} · {score.toFixed(3)}
                      </figcaption>
                    </figure>
                  );
                })}
              </div>
            </>
          ) : (
            <p>
              Example <strong>{current.key}</strong>: p(True) = {current.score?.toFixed(3)}, disagreement{' '}
              {current.mistakenness.toFixed(3)}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
