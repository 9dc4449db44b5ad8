// Search state: the query (text, split, k, ITM re-rank), the answer, the result under the cursor, and the job
// that encodes a split the cache lacks (the search runs again when it finishes). The Browse and Retrieval
// views share it, so a search started in one is there in the other.
import { create } from 'zustand';
import type { SearchResult } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';
import { useJobs } from '../jobs/store';

/** How many of the top results ITM re-ranks when re-rank is on. */
export const RERANK_K = 16;

interface SearchState {
  datasetId: number | null;
  text: string;
  split: string;
  k: number;
  rerank: boolean;
  busy: boolean;
  result: SearchResult | null;
  error: string | null;
  /** The job encoding the split's images, while it runs. */
  jobId: number | null;
  cursor: number;
  set(p: Partial<Pick<SearchState, 'text' | 'split' | 'k' | 'rerank'>>): void;
  /** Shows the search of this dataset (a new dataset starts empty). */
  showDataset(datasetId: number, splits: string[]): void;
  /** Searches the text; with an image (row id) instead, the images most like it. */
  run(imageId?: number): Promise<void>;
  clear(): void;
  move(to: number): void;
  /** The encoding job finished: search again (or say why not). */
  jobDone(): void;
}

let asked = 0; // the answer to an older query never replaces a newer one

export const useSearch = create<SearchState>((set, get) => ({
  datasetId: null,
  text: '',
  split: 'test',
  k: 24,
  rerank: false,
  busy: false,
  result: null,
  error: null,
  jobId: null,
  cursor: 0,
  set: (p) => set(p),
  showDataset: (datasetId, splits) => {
    if (get().datasetId === datasetId) return;
    const split = splits.includes('test') ? 'test' : (splits[0] ?? 'test');
    set({ datasetId, split, result: null, error: null, jobId: null, cursor: 0 });
  },
  run: async (imageId) => {
    const s = get();
    if (s.datasetId === null) return;
    const mine = ++asked;
    set({ busy: true, error: null });
    try {
      const r = await mome().searchImages({
        datasetId: s.datasetId,
        split: s.split,
        ...(imageId === undefined ? { text: s.text, rerankK: s.rerank ? RERANK_K : 0 } : { imageId }),
        k: s.k,
      });
      if (mine !== asked) return;
      if (r.state === 'encoding' && r.job) {
        useJobs.getState().apply(r.job);
        set({ jobId: r.job.id, busy: false });
      } else set({ result: r, jobId: null, busy: false, cursor: 0 });
    } catch (e) {
      if (mine === asked) set({ error: errorMessage(e), busy: false, result: null });
    }
  },
  clear: () => set({ result: null, error: null, cursor: 0 }),
  move: (to) => {
    const n = get().result?.results.length ?? 0;
    set({ cursor: Math.max(0, Math.min(n - 1, to)) });
  },
  jobDone: () => {
    const id = get().jobId;
    const job = id === null ? null : useJobs.getState().byId[id];
    if (!job || !job.finishedAt) return;
    set({ jobId: null });
    if (job.state === 'succeeded') void get().run();
    else set({ error: job.error ?? `Encoding the images ${job.state}.` });
  },
}));
