// What an evaluation run takes and gives, shared by the retrieval and NLVR2 paths.
import type { RetrievalMetrics } from '../../model-runtime/src/index';

export { ALL_SPLITS } from '../datasets/items';

export interface EvalOptions {
  task: 'retrieval' | 'nlvr2';
  modelDir: string;
  datasetId: number;
  split: string;
  k?: number;
  /** Re-rank each query's top k with the ITM head (0 or absent: off). */
  rerankK?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  cacheDir: string;
}

export interface Mistake {
  kind: 'caption' | 'nlvr2';
  id: string;
  score: number;
}

/** One eval_items row: kind, key, rank, score, mistakenness, top (JSON). */
export type ItemRow = [string, string, number | null, number | null, number, string | null];

export interface EvalResult {
  runId: number;
  task: EvalOptions['task'];
  metrics: RetrievalMetrics | { accuracy: number };
  provider: string;
  providerReason: string;
  seconds: number;
  counts: Record<string, number>;
  cache: { imageHits: number; textHits: number };
  mistakes: Mistake[];
  /**
   * Items the run could not read an image of (missing, a link leaving the dataset folder, corrupt, over the
   * pixel limit): the image's source id (retrieval) or the example's identifier (NLVR2) and why; the first 100.
   * They are counted (unreadableImages / unreadableExamples) and the run goes on without them.
   */
  unreadable: { item: string; reason: string }[];
}
