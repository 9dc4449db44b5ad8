// Review: one keyboard queue per dataset (and split) of what most needs a human, scored from the newest evaluation
// of the active model: label-error score, model uncertainty and near-duplicate spacing, with visible weights.
// K keep · F fix · H hard negative · M also a match · A ambiguous · S skip · B back · U undo the last decision.
import { useCallback, useEffect, useRef, useState } from 'react';
import { REVIEW_KEYS, decisionEdits, type ReviewFix } from '../../../../electron/api/review-decisions';
import type { EvalItemDetail, ReviewQueueItem } from '../../../../electron/api/schemas';
import { DatasetOptions } from '../../components/DatasetOptions';
import { mome } from '../../api/mome';
import { ProgressBar } from '../../components/ProgressBar';
import { fmtInt } from '../../format';
import { notAShortcut } from '../../keys';
import { toastError, useToasts } from '../../stores/toasts';
import { useDatasets } from '../datasets/store';
import { useJobs } from '../jobs/store';
import { useLabels } from '../labels/store';
import { ReviewCard } from './ReviewCard';
import { WeightSliders } from './WeightSliders';
import { useReview, type Decision } from './store';
import './review.css';

const KEYS: Record<string, Decision> = REVIEW_KEYS;
const WORDS: Record<Decision, string> = {
  keep: 'keep',
  fix: 'fix',
  hard_negative: 'hard negative',
  also_match: 'also a match',
  ambiguous: 'ambiguous',
  skip: 'skip',
};

/** Re-reads the queue when an evaluation finishes (a new run of the active model re-scores it). */
function useRescoreOnEvaluation() {
  const finished = useJobs(
    (s) => Object.values(s.byId).filter((j) => j.kind === 'evaluation' && j.state === 'succeeded').length,
  );
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const before = useReview.getState().queue?.run?.id;
    void useReview
      .getState()
      .load()
      .then(() => {
        const run = useReview.getState().queue?.run;
        if (run && run.id !== before)
          useToasts.getState().push(`Queue re-scored from evaluation run ${run.id} (${run.modelName})`, 'info');
      });
  }, [finished]);
}

/** The open item's detail, read once and kept (the next one is read ahead, so moving on is immediate). */
function useDetail(item: ReviewQueueItem | undefined, next: ReviewQueueItem | undefined) {
  const [detail, setDetail] = useState<EvalItemDetail | null>(null);
  const version = useLabels((s) => s.version);
  const detailOf = useReview((s) => s.detail);
  useEffect(() => {
    if (!item) return setDetail(null);
    let stale = false;
    detailOf(item)
      .then((d) => !stale && setDetail(d))
      .catch((e) => !stale && toastError(e));
    if (next) void detailOf(next).catch(() => undefined);
    return () => {
      stale = true;
    };
  }, [item, next, detailOf, version]);
  return detail && item && detail.key === item.key ? detail : null;
}

export function ReviewView() {
  const datasets = useDatasets((s) => s.list);
  const loadDatasets = useDatasets((s) => s.load);
  const { datasetId, split, queue, items, cursor, decisions, loading } = useReview();
  const { setDataset, setSplit, decided, back, undecide } = useReview.getState();
  const [fixing, setFixing] = useState(false);
  const item = items[cursor];
  const detail = useDetail(item, items[cursor + 1]);
  const run = queue?.run ?? null;
  useRescoreOnEvaluation();

  useEffect(() => {
    void loadDatasets();
  }, [loadDatasets]);
  useEffect(() => {
    if (!datasetId && datasets.length) setDataset(datasets[0].id);
  }, [datasets, datasetId, setDataset]);
  // on opening the view: the active model or the labels may have changed meanwhile
  useEffect(() => {
    if (useReview.getState().datasetId) void useReview.getState().load();
  }, []);
  useEffect(() => setFixing(false), [item?.key]);

  const decide = useCallback(
    async (d: Decision, fix?: ReviewFix) => {
      if (!item || !run || !datasetId) return;
      if (d === 'skip') return decided(item.key, 'skip');
      if (d === 'fix' && !fix) {
        if (item.kind === 'nlvr2') {
          if (!detail?.nlvr2 || detail.nlvr2.label === null) return;
          return void decide('fix', { label: !detail.nlvr2.label });
        }
        return setFixing(true);
      }
      let edits;
      try {
        // a hard negative or "also a match" is about the image the model prefers to the caption's own
        const partner = detail?.candidates.find((c) => !c.isTruth)?.key;
        edits = decisionEdits({ datasetId, kind: item.kind, id: item.key, partner }, d, fix);
      } catch (e) {
        return toastError(e);
      }
      // the next item shows at once; the decision is stored when the reply comes (a refusal brings the item back)
      setFixing(false);
      decided(item.key, d);
      if (!(await useLabels.getState().edit(edits, 'review', run.id))) undecide(item.key);
    },
    [item, run, datasetId, detail, decided, undecide],
  );

  const undo = useCallback(async () => {
    if (!datasetId) return;
    try {
      const e = await mome().undoLabel({ datasetId, view: 'review' });
      if (!e) return useToasts.getState().push('Nothing to undo', 'info');
      useLabels.getState().changed(e.id);
      const key = e.kind === 'pair' ? e.key.split('|')[0] : e.key;
      undecide(key);
      useToasts.getState().push(`Undid the decision on ${e.kind} ${e.key}`, 'info');
    } catch (err) {
      toastError(err);
    }
  }, [datasetId, undecide]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (notAShortcut(e) || fixing) return;
      const k = e.key.toLowerCase();
      if (KEYS[k]) {
        e.preventDefault();
        void decide(KEYS[k]);
      } else if (k === 'b') {
        e.preventDefault();
        back();
      } else if (k === 'u') {
        e.preventDefault();
        void undo();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [decide, back, undo, fixing]);

  const ds = datasets.find((d) => d.id === datasetId) ?? null;
  if (!datasets.length)
    return (
      <section className="view">
        <p className="empty">No dataset imported yet. Import one in Datasets, evaluate it, then review it here.</p>
      </section>
    );
  const task = ds?.kind === 'nlvr2' ? 'nlvr2' : 'retrieval';
  const evaluate = async () => {
    if (!ds) return;
    try {
      useJobs.getState().apply(await mome().startEvaluation({ task, datasetId: ds.id, split: split ?? '*' }));
    } catch (e) {
      toastError(e);
    }
  };
  const size = queue?.size ?? 0;
  const decidedHere = Object.values(decisions).filter((d) => d !== 'skip').length;
  const done = (queue?.decided ?? 0) + decidedHere;
  return (
    <section className="view review" data-testid="review">
      <div className="row">
        <select aria-label="Dataset" value={datasetId ?? ''} onChange={(e) => setDataset(Number(e.target.value))}>
          <DatasetOptions datasets={datasets} />
        </select>
        <select
          aria-label="Split"
          value={split ?? ''}
          onChange={(e) => setSplit(e.target.value === '' ? undefined : e.target.value)}
        >
          <option value="">newest run's split</option>
          {(queue?.splits ?? []).map((s) => (
            <option key={s} value={s}>
              {s === '*' ? 'all splits' : s}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void evaluate()} title="A new run re-scores the queue">
          Evaluate {split === undefined || split === '*' ? 'all splits' : split} with the active model
        </button>
      </div>
      <WeightSliders />
      {!queue ? (
        <p className="empty">Loading the queue…</p>
      ) : !run ? (
        <p className="empty">
          No evaluation of this dataset yet: evaluate it (all splits: label noise usually sits in the training split)
          and the queue fills with what the model most doubts.
        </p>
      ) : (
        <>
          <div className="review-status" data-testid="review-progress">
            <span>
              Decided <strong>{fmtInt(done)}</strong> of {fmtInt(size)} · {fmtInt(Math.max(0, size - done))} left · from
              run {run.id} ({run.modelName}, {run.split === '*' ? 'all splits' : run.split})
              {queue.diversityApplied ? ' · near-duplicates spaced' : ''}
            </span>
            <ProgressBar value={size ? done / size : 0} label="decided" />
          </div>
          {!queue.fromActiveModel && (
            <p className="notice" data-testid="review-stale">
              The active model has no evaluation of this dataset{split ? ` (${split})` : ''}: this queue comes from run{' '}
              {run.id} of {run.modelName}. Evaluate with the active model to re-score it.
            </p>
          )}
          {item ? (
            <ReviewCard
              item={item}
              detail={detail}
              decision={decisions[item.key]}
              fixing={fixing}
              onFix={(fix) => void decide('fix', fix)}
              onCancelFix={() => setFixing(false)}
            />
          ) : (
            <p className="empty" data-testid="review-done">
              {loading ? 'Loading…' : 'Nothing left to review in this queue.'}
            </p>
          )}
          <div className="row keys" aria-label="Decisions">
            {(Object.entries(KEYS) as [string, Decision][]).map(([k, d]) => (
              <button key={k} type="button" disabled={!item} onClick={() => void decide(d)}>
                <kbd>{k.toUpperCase()}</kbd> {WORDS[d]}
              </button>
            ))}
            <button type="button" onClick={back} disabled={cursor === 0}>
              <kbd>B</kbd> back
            </button>
            <button type="button" onClick={() => void undo()}>
              <kbd>U</kbd> undo
            </button>
          </div>
        </>
      )}
    </section>
  );
}
