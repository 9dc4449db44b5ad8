// A dataset's review queue, as the Review view and `mome review-queue` show it: the newest evaluation of the active
// model on the dataset (and split) gives each query a label-error score (its mistakenness) and an uncertainty; the
// two are mixed by rank with the user's weights, and near-duplicates (by the run's cached embeddings) are spaced.
// Items the Review view has decided (its label edits, not undone) drop out; the order of the rest is kept.
import { ApiError } from '../api/contract';
import type { EvalRun, ReviewQueue, ReviewWeights } from '../api/schemas';
import { datasetInfo } from '../datasets/repository';
import { decidedTargets } from '../labels/history';
import type { Db } from '../store/db';
import { itemMistakenness, itemTexts } from './items';
import { listEvalRuns } from './repository';
import { reviewEmbeddings } from './review-embeddings';
import { orderQueueOffThread } from './review-order';
import { DEFAULT_REVIEW_WEIGHTS, combineScores, marginUncertainty, probabilityUncertainty } from './review-score';

/** The view name the Review view's label edits carry: what marks an item decided. */
export const REVIEW_VIEW = 'review';

export type QueueKind = 'caption' | 'nlvr2';

/** The run's cached embeddings of the items, row for row (undefined: none cached, no spacing). */
export type EmbeddingsFor = (
  run: EvalRun,
  kind: QueueKind,
  keys: string[],
) => Promise<{ embeddings: Float32Array; dim: number; found?: number } | undefined>;

export interface OrderedQueue {
  run: EvalRun;
  kind: QueueKind;
  keys: string[];
  labelError: Float32Array;
  uncertainty: Float32Array;
  scores: Float32Array;
  /** indices into keys, in queue order */
  order: number[];
  diversityApplied: boolean;
  /** how many items the spacing could compare (those with a cached embedding) */
  embedded: number;
}

/** Scores and orders every query of one kind of a run (a retrieval run's captions; an NLVR2 run's examples). */
export async function orderRunQueue(
  db: Db,
  run: EvalRun,
  weights: ReviewWeights,
  embeddingsFor?: EmbeddingsFor,
): Promise<OrderedQueue> {
  const kind: QueueKind = run.task === 'nlvr2' ? 'nlvr2' : 'caption';
  const rows = itemMistakenness(db, run.id, kind);
  const keys = rows.map((r) => r.key);
  const labelError = Float32Array.from(rows, (r) => r.mistakenness);
  // retrieval: the mistakenness is a margin (near 0 = undecided); NLVR2: the probability of the other label
  const uncertainty = kind === 'nlvr2' ? probabilityUncertainty(labelError) : marginUncertainty(labelError);
  const scores = combineScores(labelError, uncertainty, weights);
  const emb = weights.diversity > 0 && embeddingsFor ? await embeddingsFor(run, kind, keys) : undefined;
  // (an item without a cached embedding has a row of zeros: a near-duplicate of nothing)
  // a long queue with spacing is ordered in a worker thread (review-order.ts): it never holds the event loop
  const order = await orderQueueOffThread(
    scores,
    emb ? { embeddings: emb.embeddings, dim: emb.dim, diversity: weights.diversity } : {},
  );
  const embedded = emb ? (emb.found ?? keys.length) : 0;
  return { run, kind, keys, labelError, uncertainty, scores, order, diversityApplied: !!emb, embedded };
}

/**
 * The near-duplicate spacing's embeddings from the evaluations' cache folder (review-embeddings.ts), remembered for
 * the last few runs: a change of weights re-orders without re-reading them.
 */
export function cachedEmbeddings(db: Db, cacheDir: string, size = 2): EmbeddingsFor {
  const byRun = new Map<number, ReturnType<EmbeddingsFor>>();
  return (run, kind, keys) => {
    let e = byRun.get(run.id);
    if (!e) {
      e = reviewEmbeddings(
        db,
        run.id,
        cacheDir,
        keys.map((id) => ({ kind, id })),
      );
      e.catch(() => byRun.delete(run.id));
      byRun.set(run.id, e);
      while (byRun.size > size) byRun.delete(byRun.keys().next().value as number);
    }
    return e;
  };
}

/** The run a dataset's queue comes from: the newest of the active model (on the split, if given), else the newest. */
export function queueRun(
  db: Db,
  datasetId: number,
  activeModelDir: string | null,
  split?: string,
): { run: EvalRun | null; splits: string[]; fromActiveModel: boolean } {
  const task = datasetInfo(db, datasetId).kind === 'nlvr2' ? 'nlvr2' : 'retrieval';
  const runs = listEvalRuns(db, datasetId).filter((r) => r.task === task);
  const splits = [...new Set(runs.map((r) => r.split))].sort();
  if (split !== undefined && runs.length > 0 && !splits.includes(split))
    throw new ApiError(
      'invalid_arguments',
      `Dataset ${datasetId} has no ${task} evaluation of split "${split}" (it has: ${splits.join(', ')}).`,
    );
  const onSplit = split === undefined ? runs : runs.filter((r) => r.split === split);
  const ofActive = onSplit.find((r) => r.modelDir === activeModelDir);
  return { run: ofActive ?? onSplit[0] ?? null, splits, fromActiveModel: !!ofActive };
}

const finite = (x: number) => (Number.isFinite(x) ? x : 0);

/** Remembers the last few orders (by run and weights), so paging and the next item never re-order. */
export class ReviewQueues {
  private cache = new Map<string, Promise<OrderedQueue>>();
  constructor(
    private db: Db,
    private embeddingsFor?: EmbeddingsFor,
    private size = 4,
  ) {}

  ordered(run: EvalRun, weights: ReviewWeights): Promise<OrderedQueue> {
    const key = `${run.id}|${weights.labelError}|${weights.uncertainty}|${weights.diversity}`;
    let q = this.cache.get(key);
    if (!q) {
      q = orderRunQueue(this.db, run, weights, this.embeddingsFor);
      q.catch(() => this.cache.delete(key));
      this.cache.set(key, q);
      while (this.cache.size > this.size) this.cache.delete(this.cache.keys().next().value as string);
    }
    return q;
  }

  async page(q: {
    datasetId: number;
    activeModelDir: string | null;
    split?: string;
    weights?: ReviewWeights;
    offset: number;
    limit: number;
  }): Promise<ReviewQueue> {
    const weights = q.weights ?? DEFAULT_REVIEW_WEIGHTS;
    const { run, splits, fromActiveModel } = queueRun(this.db, q.datasetId, q.activeModelDir, q.split);
    const empty = { splits, fromActiveModel, weights, offset: q.offset, items: [] };
    if (!run) return { ...empty, run: null, diversityApplied: false, size: 0, decided: 0, total: 0 };
    const o = await this.ordered(run, weights);
    const decided = decidedTargets(this.db, q.datasetId, REVIEW_VIEW);
    const positions: number[] = [];
    for (let p = 0; p < o.order.length; p++) if (!decided.has(`${o.kind}:${o.keys[o.order[p]]}`)) positions.push(p);
    const page = positions.slice(q.offset, q.offset + q.limit);
    const texts = itemTexts(
      this.db,
      q.datasetId,
      run.id,
      o.kind,
      page.map((p) => o.keys[o.order[p]]),
    );
    return {
      ...empty,
      run,
      diversityApplied: o.diversityApplied,
      size: o.order.length,
      decided: o.order.length - positions.length,
      total: positions.length,
      items: page.map((p) => {
        const i = o.order[p];
        const t = texts.get(o.keys[i]);
        return {
          kind: o.kind,
          key: o.keys[i],
          position: p,
          score: finite(o.scores[i]),
          signals: { labelError: finite(o.labelError[i]), uncertainty: finite(o.uncertainty[i]) },
          text: t?.text ?? null,
          split: t?.split ?? null,
        };
      }),
    };
  }
}
