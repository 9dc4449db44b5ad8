// The Review view's session: the dataset and split, the weights, the queue loaded so far (pages of undecided items
// in queue order), the cursor, and what was decided here. A decision is written before the cursor moves on (the
// reply means it is stored); skipped items stay undecided and come back in the next session.
import { create } from 'zustand';
import type { EvalItemDetail, ReviewQueue, ReviewQueueItem, ReviewWeights } from '../../../../electron/api/schemas';
import { DEFAULT_REVIEW_WEIGHTS } from '../../../../electron/api/review-decisions';
import { mome } from '../../api/mome';
import { toastError } from '../../stores/toasts';

const PAGE = 50;

export type Decision = 'keep' | 'fix' | 'hard_negative' | 'also_match' | 'ambiguous' | 'skip';

interface ReviewState {
  datasetId: number | null;
  split: string | undefined;
  weights: ReviewWeights;
  queue: ReviewQueue | null;
  items: ReviewQueueItem[];
  cursor: number;
  /** item key → decision made in this session (skip included) */
  decisions: Record<string, Decision>;
  /** undecided items the server has not sent yet */
  more: boolean;
  loading: boolean;
  details: Map<string, Promise<EvalItemDetail>>;
  setDataset(id: number): void;
  setSplit(split: string | undefined): void;
  setWeights(w: Partial<ReviewWeights>): void;
  load(): Promise<void>;
  loadMore(): Promise<void>;
  detail(item: ReviewQueueItem): Promise<EvalItemDetail>;
  decided(key: string, d: Decision): void;
  back(): void;
  undecide(key: string): void;
}

export const useReview = create<ReviewState>((set, get) => ({
  datasetId: null,
  split: undefined,
  weights: DEFAULT_REVIEW_WEIGHTS,
  queue: null,
  items: [],
  cursor: 0,
  decisions: {},
  more: false,
  loading: false,
  details: new Map(),
  setDataset: (id) => {
    if (id === get().datasetId) return;
    set({ datasetId: id, split: undefined });
    void get().load();
  },
  setSplit: (split) => {
    set({ split });
    void get().load();
  },
  setWeights: (w) => {
    set({ weights: { ...get().weights, ...w } });
    void get().load();
  },
  load: async () => {
    const { datasetId, split, weights } = get();
    if (!datasetId) return;
    set({ loading: true });
    try {
      const q = await mome().getReviewQueue({ datasetId, split, weights, offset: 0, limit: PAGE });
      // a newer request (other weights, another dataset) may have answered first
      if (get().datasetId !== datasetId || get().weights !== weights) return;
      const runChanged = get().queue?.run?.id !== q.run?.id;
      set({
        queue: q,
        items: q.items,
        cursor: 0,
        decisions: {},
        more: q.items.length < q.total,
        details: runChanged ? new Map() : get().details,
      });
    } catch (e) {
      toastError(e);
    } finally {
      set({ loading: false });
    }
  },
  loadMore: async () => {
    const { datasetId, split, weights, items, decisions, more, loading } = get();
    if (!datasetId || !more || loading) return;
    // the server leaves decided items out and keeps the order: what is still undecided here is its offset
    const offset = items.filter((i) => !decisions[i.key] || decisions[i.key] === 'skip').length;
    set({ loading: true });
    try {
      const q = await mome().getReviewQueue({ datasetId, split, weights, offset, limit: PAGE });
      if (get().datasetId !== datasetId || get().weights !== weights) return;
      const have = new Set(get().items.map((i) => i.key));
      set({
        items: [...get().items, ...q.items.filter((i) => !have.has(i.key))],
        more: offset + q.items.length < q.total,
      });
    } catch (e) {
      toastError(e);
    } finally {
      set({ loading: false });
    }
  },
  detail: (item) => {
    const runId = get().queue?.run?.id;
    const details = get().details;
    let d = details.get(item.key);
    if (!d && runId) {
      d = mome().getEvalItemDetail({ runId, kind: item.kind, key: item.key });
      d.catch(() => details.delete(item.key));
      details.set(item.key, d);
    }
    return d ?? Promise.reject(new Error('No evaluation run to read the item from.'));
  },
  decided: (key, d) => {
    set({ decisions: { ...get().decisions, [key]: d }, cursor: get().cursor + 1 });
    if (get().items.length - get().cursor < 10) void get().loadMore();
  },
  back: () => set({ cursor: Math.max(0, get().cursor - 1) }),
  undecide: (key) => {
    const decisions = { ...get().decisions };
    delete decisions[key];
    const at = get().items.findIndex((i) => i.key === key);
    set({ decisions, cursor: at >= 0 ? at : get().cursor });
  },
}));
