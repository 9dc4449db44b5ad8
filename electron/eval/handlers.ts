// The evaluation methods of MomeApi: running an evaluation as a job, and the views of its stored runs (metrics
// with intervals, items, comparisons, slices, the embedding map, the shareable report).
import { ApiError } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import type { EventHub } from '../api/events';
import type { JobService } from '../jobs/service';
import type { ModelRegistry } from '../models/registry';
import type { Db } from '../store/db';
import { compareEvalRuns } from './compare';
import { getEmbeddingMap } from './embedding-map';
import { getEmbeddingMapItems, getEmbeddingMapPoints, startEmbeddingMap } from './whole-map';
import { evalMetricsWithMarks } from './extra-positives';
import { getEvalItemDetail } from './inspect';
import { exportEvalReport } from './report/index';
import { getEvalItems, listEvalRuns } from './repository';
import { embeddingClusters } from './clusters';
import { imageShapes } from './image-shapes';
import { ReviewQueues, cachedEmbeddings } from './review-queue';
import { findChangedSlices, findFailureSlices } from './slices';
import { withIntervals } from './stats';
import { getEvalSummary } from './summary';

type EvalHandlers = Pick<
  Handlers,
  | 'startEvaluation'
  | 'listEvalRuns'
  | 'getEvalItems'
  | 'compareEvalRuns'
  | 'getEvalItemDetail'
  | 'getEvalSummary'
  | 'startEmbeddingMap'
  | 'getEmbeddingMapPoints'
  | 'getEmbeddingMapItems'
  | 'findFailureSlices'
  | 'findChangedSlices'
  | 'getEmbeddingMap'
  | 'exportEvalReport'
  | 'getEvalMetricsWithMarks'
  | 'getReviewQueue'
>;

/** An evaluation job's result keeps at most this many likely label errors (the run's items hold them all). */
const MISTAKES_IN_RESULT = 500;

export function evalHandlers(deps: {
  db: Db;
  jobs: JobService;
  models: ModelRegistry;
  events: EventHub;
  /** The embeddings cache folder evaluations and the embedding map share. */
  cacheDir: string;
  defaultModelDir: () => string | null;
}): EvalHandlers {
  const { db, jobs, models, events, cacheDir } = deps;
  const queues = new ReviewQueues(db, cachedEmbeddings(db, cacheDir));
  return {
    startEvaluation: ({ task, datasetId, split, modelDir, k, rerankK, device: asked }) => {
      const device = asked === 'auto' ? models.device() : asked; // the user may have chosen CPU explicitly
      const dir = modelDir ?? models.active()?.dir ?? deps.defaultModelDir();
      if (!dir)
        throw new ApiError('not_found', 'No model folder given and the embedded default model is not installed.');
      return jobs.start(
        'evaluation',
        `Evaluate ${task} on dataset ${datasetId} (${split === '*' ? 'all splits' : split})`,
        { task, datasetId, split, modelDir: dir, k, rerankK, device },
        async (ctx) => {
          // loaded on first use: ONNX Runtime is not needed to start the app
          const { runEvaluation } = await import('./run-eval');
          const result = await runEvaluation(
            db,
            { task, datasetId, split, modelDir: dir, k, rerankK, device, cacheDir },
            ctx,
          );
          events.emit('dataChanged', { entity: 'datasets', id: datasetId });
          return { ...result, mistakes: result.mistakes.slice(0, MISTAKES_IN_RESULT) };
        },
      );
    },
    listEvalRuns: ({ datasetId, resamples, seed }) =>
      listEvalRuns(db, datasetId).map((r) => withIntervals(db, r, { resamples, seed })),
    getEvalItems: (q) => getEvalItems(db, q),
    compareEvalRuns: (q) => compareEvalRuns(db, q),
    getEvalItemDetail: (q) => getEvalItemDetail(db, q),
    getEvalSummary: ({ runId }) => getEvalSummary(db, runId),
    startEmbeddingMap: ({ runId }) => startEmbeddingMap(db, jobs, cacheDir, runId),
    getEmbeddingMapPoints: ({ runId }) => getEmbeddingMapPoints(db, runId),
    getEmbeddingMapItems: ({ runId, indices }) => getEmbeddingMapItems(runId, indices),
    findFailureSlices: async (q) =>
      findFailureSlices(db, {
        ...q,
        clusters: await embeddingClusters(db, cacheDir, q.runId, q.kind),
        shapes: await imageShapes(db, q.runId),
      }),
    findChangedSlices: async (q) =>
      findChangedSlices(db, {
        ...q,
        clusters: await embeddingClusters(db, cacheDir, q.b, q.kind),
        shapes: await imageShapes(db, q.b),
      }),
    getEmbeddingMap: (q) => getEmbeddingMap(db, cacheDir, q),
    getReviewQueue: (q) => queues.page({ ...q, activeModelDir: models.active()?.dir ?? deps.defaultModelDir() }),
    exportEvalReport: (q) => exportEvalReport({ db, registry: models, cacheDir }, q),
    getEvalMetricsWithMarks: ({ runId }) => evalMetricsWithMarks(db, runId),
  };
}
