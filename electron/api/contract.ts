// THE contract: every method of MomeApi with its zod-validated arguments and result, and every event.
// The Electron preload, the HTTP bridge and the renderer client are all derived from these tables,
// so a misspelled method or a wrong argument is a compile error on every side.
import { z } from 'zod';
import { EVENT_NAMES, METHOD_NAMES } from './names';
import {
  AppInfo,
  Dataset,
  DatasetKind,
  DatasetStats,
  DirEntry,
  EvalItemKind,
  EvalComparison,
  EvalItem,
  EvalItemDetail,
  EvalReport,
  EvalMarkedMetrics,
  EvalSummary,
  EmbeddingMap,
  EmbeddingMapItem,
  EmbeddingMapPoints,
  EvalRun,
  FailureSlices,
  ChangedSlices,
  FineTune,
  FineTunePreview,
  FineTuneSettings,
  FineTuneTask,
  ImageDetail,
  LabelAgreement,
  LabelDecision,
  LabelEvent,
  LabelField,
  LabelFieldState,
  LabelSettings,
  LabelSnapshot,
  LabelSnapshotDiff,
  LabelTarget,
  LabelTargetKind,
  ImagePage,
  Job,
  MediaRoot,
  ModelCard,
  ModelDevice,
  ModelProvider,
  ModelVersion,
  Nlvr2Example,
  Page,
  PythonInterpreter,
  PythonInUse,
  ReviewQueue,
  ReviewWeights,
  SearchResult,
} from './schemas';

const none = z.object({}).strict();
const id = z.number().int().positive();
/** Where an edit came from: who (defaults to the OS user), which view, which evaluation run. */
const provenance = {
  author: z.string().min(1).max(200).optional(),
  view: z.string().max(100).optional(),
  evalRunId: z.number().int().positive().optional(),
};
const absolutePath = z
  .string()
  .min(1, 'path is empty')
  .max(4096, 'path is longer than 4096 characters')
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'path must be absolute');

export const methods = {
  getAppInfo: { input: none, output: AppInfo },

  listJobs: {
    input: z.object({ limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    output: z.array(Job),
  },
  getJob: { input: z.object({ id: z.number().int().positive() }).strict(), output: Job },
  cancelJob: { input: z.object({ id: z.number().int().positive() }).strict(), output: Job },
  /** A real job: walks a folder (e.g. a dataset root), counts files and images, detects the dataset kind. */
  startFolderScan: {
    input: z.object({ path: absolutePath }).strict(),
    output: Job,
  },

  listMediaRoots: { input: none, output: z.array(MediaRoot) },
  addMediaRoot: {
    input: z.object({ path: absolutePath, label: z.string().max(200).optional() }).strict(),
    output: MediaRoot,
  },
  /** Folder completion for the browser-mode path field (directories first). */
  listDirectory: {
    input: z.object({ path: absolutePath, includeFiles: z.boolean().default(false) }).strict(),
    output: z.array(DirEntry),
  },
  /** Imports a dataset folder (kind detected unless given) as a job; the result is the import summary. */
  /** The native folder dialog (desktop only; browser mode answers null and the UI offers the path field). */
  pickFolder: { input: z.object({ title: z.string().max(200).optional() }).strict(), output: z.string().nullable() },
  /** The native file dialog (desktop app); null in browser mode, where the path field serves. */
  pickFile: {
    input: z
      .object({
        title: z.string().max(200).optional(),
        extensions: z
          .array(z.string().regex(/^[A-Za-z0-9]{1,10}$/, 'an extension is 1-10 letters or digits, without the dot'))
          .max(20)
          .optional(),
      })
      .strict(),
    output: z.string().nullable(),
  },
  startDatasetImport: {
    input: z.object({ path: absolutePath, kind: DatasetKind.optional(), refresh: z.boolean().default(false) }).strict(),
    output: Job,
  },
  listDatasets: { input: none, output: z.array(Dataset) },
  /** Removes a dataset's rows (never files on disk). */
  removeDataset: {
    input: z.object({ id: id, deleteLabels: z.boolean().default(false) }).strict(),
    output: z.object({ removed: z.boolean(), labelsDeleted: z.number().int() }),
  },
  countLabels: { input: z.object({ datasetId: id }).strict(), output: z.object({ events: z.number().int() }) },
  /** One page of a dataset's images, with optional split filter, full-text caption search and sort. */
  browseImages: {
    input: z
      .object({
        datasetId: id,
        split: z.string().max(20).optional(),
        search: z.string().max(500).optional(),
        sort: z.enum(['id', 'file', 'captions', 'flags']).default('id'),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    output: ImagePage,
  },
  getImageItem: { input: z.object({ id: id }).strict(), output: ImageDetail },
  /** The item a label is about (an image or an NLVR2 example), to open it from the Labels view. */
  findLabelItem: {
    input: LabelTarget.strict(),
    output: z.object({ image: ImageDetail.nullable(), example: Nlvr2Example.nullable() }),
  },
  browseNlvr2: {
    input: z
      .object({
        datasetId: id,
        split: z.string().max(20).optional(),
        search: z.string().max(500).optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    output: Page(Nlvr2Example),
  },
  getDatasetStats: { input: z.object({ datasetId: id }).strict(), output: DatasetStats },

  /** Appends label edits, all or nothing. With `expected`, an edit based on a stale value is refused (conflict). */
  editLabels: {
    input: z
      .object({
        edits: z
          .array(
            LabelTarget.extend({
              field: z.string().min(1).max(40),
              value: z.unknown(),
              expected: z.unknown().optional(),
            }),
          )
          .min(1)
          .max(5000),
        ...provenance,
      })
      .strict(),
    output: z.array(LabelEvent),
  },
  undoLabel: { input: z.object({ datasetId: id.optional(), ...provenance }).strict(), output: LabelEvent.nullable() },
  redoLabel: { input: z.object({ datasetId: id.optional(), ...provenance }).strict(), output: LabelEvent.nullable() },
  revertLabel: { input: z.object({ eventId: id, ...provenance }).strict(), output: LabelEvent },
  listLabelEvents: {
    input: z
      .object({
        datasetId: id.optional(),
        kind: LabelTargetKind.optional(),
        author: z.string().max(200).optional(),
        since: z.string().max(40).optional(),
        until: z.string().max(40).optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    output: z.object({
      total: z.number().int(),
      items: z.array(LabelEvent),
      counts: z.array(
        z.object({ datasetId: z.number().int(), kind: LabelTargetKind, field: z.string(), n: z.number().int() }),
      ),
    }),
  },
  /** The project's label settings: whether corrections need review, and the user name edits are written under. */
  getLabelSettings: { input: none, output: LabelSettings },
  setLabelSettings: {
    input: z
      .object({ reviewRequired: z.boolean().optional(), userName: z.string().max(200).nullable().optional() })
      .strict(),
    output: LabelSettings,
  },
  /** A dataset's edited fields with their review state (pending, accepted, rejected, unreviewed), newest first. */
  listLabelFields: {
    input: z
      .object({
        datasetId: id,
        state: LabelFieldState.optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    output: z.object({
      total: z.number().int(),
      counts: z.record(LabelFieldState, z.number().int()),
      items: z.array(LabelField),
    }),
  },
  /** Accepts or rejects a pending correction (someone other than its author); a rejection restores the value in force. */
  reviewLabel: {
    input: z
      .object({
        eventId: id,
        decision: z.enum(['accept', 'reject']),
        note: z.string().max(2000).optional(),
        ...provenance,
      })
      .strict(),
    output: z.object({ decision: LabelDecision, event: LabelEvent.nullable() }),
  },
  /** Agreement between authors who judged the same items (Cohen's kappa) and the conflicting judgements. */
  getLabelAgreement: { input: z.object({ datasetId: id }).strict(), output: LabelAgreement },
  /** Takes a named snapshot of a dataset's labels in force (marks into the history, not a copy). */
  createLabelSnapshot: {
    input: z
      .object({ datasetId: id, name: z.string().min(1).max(200), author: z.string().min(1).max(200).optional() })
      .strict(),
    output: LabelSnapshot,
  },
  listLabelSnapshots: { input: z.object({ datasetId: id.optional() }).strict(), output: z.array(LabelSnapshot) },
  /** What changed between two snapshots of a dataset (null from: as imported; null to: now), and by whom. */
  diffLabelSnapshots: {
    input: z
      .object({
        datasetId: id,
        fromId: id.nullable(),
        toId: id.nullable(),
        limit: z.number().int().min(1).max(5000).default(1000),
      })
      .strict(),
    output: LabelSnapshotDiff,
  },
  /** Makes the labels equal a snapshot's, as new events in one undoable step. */
  restoreLabelSnapshot: { input: z.object({ snapshotId: id, ...provenance }).strict(), output: z.array(LabelEvent) },
  /** Writes the corrected dataset in its original format to a new folder, as a job. */
  startDatasetExport: { input: z.object({ datasetId: id, out: absolutePath }).strict(), output: Job },
  /** Evaluates a model on a dataset split as a job (the embedded tiny model when no folder is given). */
  startEvaluation: {
    input: z
      .object({
        task: z.enum(['retrieval', 'nlvr2']),
        datasetId: id,
        split: z.string().min(1).max(20),
        modelDir: absolutePath.optional(),
        k: z.number().int().min(1).max(100).default(10),
        /** Re-rank each query's top k with the fusion encoder's ITM head (0: off). */
        rerankK: z.number().int().min(0).max(100).default(0),
        device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
      })
      .strict(),
    output: Job,
  },
  /** The runs, newest first, each metric with its 95% bootstrap interval over queries (seeded: reproducible). */
  listEvalRuns: {
    input: z
      .object({
        datasetId: id.optional(),
        resamples: z.number().int().min(100).max(100_000).default(1000),
        seed: z.number().int().min(0).default(0),
      })
      .strict(),
    output: z.array(EvalRun),
  },
  getEvalItems: {
    input: z
      .object({
        runId: id,
        kind: EvalItemKind,
        order: z.enum(['mistakenness', 'rank']).default('mistakenness'),
        minRank: z.number().int().min(0).optional(),
        search: z.string().max(200).optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    output: Page(EvalItem),
  },
  /** Run b against run a (same dataset and split): metric deltas and the items b fixed and broke. */
  compareEvalRuns: {
    input: z
      .object({
        a: id,
        b: id,
        at: z.union([z.literal(1), z.literal(5), z.literal(10)]).default(1),
        limit: z.number().int().min(1).max(10000).default(1000),
        /** The paired bootstrap of each difference: resamples and seed. */
        resamples: z.number().int().min(100).max(100_000).default(1000),
        seed: z.number().int().min(0).default(0),
      })
      .strict(),
    output: EvalComparison,
  },
  /** One query of a run in full: its ground truth next to the top-k candidates, or the NLVR2 pair. */
  getEvalItemDetail: {
    input: z.object({ runId: id, kind: EvalItemKind, key: z.string().min(1).max(200) }).strict(),
    output: EvalItemDetail,
  },
  /** Histograms of ground-truth ranks and score margins, misses at R@k, NLVR2's confusion matrix. */
  getEvalSummary: { input: z.object({ runId: id }).strict(), output: EvalSummary },
  /** A 2-D map (t-SNE) of a sample of a retrieval run's image and caption embeddings, computed off-thread. */
  /**
   * The groups of a run's queries (caption or statement words and word pairs, length, split) whose metric
   * falls furthest below the whole run's, each with at least minSupport queries; intervals by bootstrap.
   */
  findFailureSlices: {
    input: z
      .object({
        runId: id,
        /** A retrieval run's caption queries (IR) or image queries (TR); an NLVR2 run's examples. */
        kind: EvalItemKind.default('caption'),
        at: z.union([z.literal(1), z.literal(5), z.literal(10)]).default(1),
        minSupport: z.number().int().min(5).max(100_000).default(30),
        limit: z.number().int().min(1).max(200).default(20),
        resamples: z.number().int().min(100).max(100_000).default(1000),
        seed: z.number().int().min(0).default(0),
      })
      .strict(),
    output: FailureSlices,
  },
  /**
   * Two runs of the same split (b against a): the groups of queries (as findFailureSlices forms them) whose
   * metric changed most, what b fixed and what it broke, each with its paired 95% interval.
   */
  findChangedSlices: {
    input: z
      .object({
        a: id,
        b: id,
        kind: EvalItemKind.default('caption'),
        at: z.union([z.literal(1), z.literal(5), z.literal(10)]).default(1),
        minSupport: z.number().int().min(5).max(100_000).default(30),
        limit: z.number().int().min(1).max(200).default(10),
        resamples: z.number().int().min(100).max(100_000).default(1000),
        seed: z.number().int().min(0).default(0),
      })
      .strict(),
    output: ChangedSlices,
  },
  /**
   * A dataset's review queue (one per split): label-error score, model uncertainty and near-duplicate spacing,
   * weighted; from the newest evaluation of the active model. Decided items (the Review view's edits) drop out.
   */
  getReviewQueue: {
    input: z
      .object({
        datasetId: id,
        /** A split the dataset has runs for ('*': all splits); absent: the newest run's. */
        split: z.string().min(1).max(20).optional(),
        weights: ReviewWeights.optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
      })
      .strict(),
    output: ReviewQueue,
  },
  getEmbeddingMap: {
    input: z.object({ runId: id, maxPoints: z.number().int().min(10).max(5000).default(1500) }).strict(),
    output: EmbeddingMap,
  },
  /** Computes (or reads from the cache) the map of every image and caption of a retrieval run, as a job. */
  startEmbeddingMap: { input: z.object({ runId: id }).strict(), output: Job },
  /** The whole map as it stands: the landmarks' first map while the job runs, every point after. */
  getEmbeddingMapPoints: { input: z.object({ runId: id }).strict(), output: EmbeddingMapPoints },
  /** Points of the whole map by index, to preview or list (a selection's page). */
  getEmbeddingMapItems: {
    input: z.object({ runId: id, indices: z.array(z.number().int().min(0)).max(1000) }).strict(),
    output: z.array(EmbeddingMapItem),
  },
  listModels: {
    input: z.object({ includeRemoved: z.boolean().default(false) }).strict(),
    output: z.array(ModelVersion),
  },
  /** A model's card (removed models too): architecture, source, provider and why, its runs, all versions' metrics. */
  getModelCard: { input: z.object({ id: id }).strict(), output: ModelCard },
  /** Run models on CUDA where possible ('auto') or on the CPU explicitly. */
  setModelDevice: { input: z.object({ device: ModelDevice }).strict(), output: ModelProvider },
  /** The Python interpreters found here (each probed: Python and torch versions, CUDA devices, what it lacks). */
  listPythonInterpreters: {
    input: none,
    output: z.object({ interpreters: z.array(PythonInterpreter), inUse: PythonInUse, minimumTorch: z.string() }),
  },
  /**
   * The interpreter fine-tunes and conversions use, remembered in the home (null: back to the automatic search).
   * One that fails the probe (no torch, torch too old, numpy, Pillow or onnx missing) is refused and not saved.
   */
  setPythonInterpreter: {
    input: z.object({ path: absolutePath.nullable() }).strict(),
    output: z.object({ interpreter: PythonInterpreter.nullable(), inUse: PythonInUse }),
  },
  /** Imports an official VLMo checkpoint (converted) or a model folder, as a job. */
  startModelImport: { input: z.object({ path: absolutePath, vocab: absolutePath.optional() }).strict(), output: Job },
  setActiveModel: { input: z.object({ id: id }).strict(), output: ModelVersion },
  removeModel: { input: z.object({ id: id }).strict(), output: z.object({ removed: z.boolean() }) },
  /** What a fine-tune of this dataset would use (corrections, hard negatives, examples), defaults, time estimate. */
  previewFineTune: {
    input: z.object({ datasetId: id, task: FineTuneTask.optional() }).strict(),
    output: FineTunePreview,
  },
  /** Fine-tunes a model on the dataset's corrected training data as a job; the result is a new model version. */
  startFineTune: {
    input: FineTuneSettings.partial().extend({ datasetId: id }).strict(),
    output: Job,
  },
  /** Continues a cancelled or interrupted fine-tune from its trainer's checkpoint, as a new job. */
  resumeFineTune: { input: z.object({ jobId: id }).strict(), output: Job },
  /** A fine-tune: its loss and lr curve, log tail, the new model and the evaluation runs before and after. */
  getFineTune: { input: z.object({ jobId: id }).strict(), output: FineTune },
  listFineTunes: { input: z.object({ datasetId: id.optional() }).strict(), output: z.array(FineTune) },
  getLabelState: {
    input: z.object({ targets: z.array(LabelTarget).min(1).max(2000) }).strict(),
    output: z.array(
      z.object({
        target: LabelTarget,
        field: z.string(),
        value: z.unknown(),
        eventId: z.number().int(),
        author: z.string(),
      }),
    ),
  },
  /**
   * Ranks a split's images for a sentence with a model's dual encoder (the active model unless modelId names a
   * registered version): the evaluation's cached embeddings, ranking and scores; optionally the top rerankK
   * re-ranked with ITM. A split the cache lacks is encoded first, as a job: the answer is then that job.
   * With imageId instead of text: the images most like that image.
   */
  searchImages: {
    input: z
      .object({
        datasetId: id,
        split: z.string().min(1).max(20),
        modelId: id.optional(),
        text: z.string().max(2000, 'the query is longer than 2,000 characters').optional(),
        /** Image → image: rank the split's images by likeness to this dataset image (row id) instead. */
        imageId: id.optional(),
        k: z.number().int().min(1).max(500).default(24),
        rerankK: z.number().int().min(0).max(100).default(0),
      })
      .strict(),
    output: SearchResult,
  },
  /**
   * A retrieval run's R@1/5/10 and mAP@R with the "also a match" marks counted as correct, beside the original
   * figures: recomputed from the stored per-query ranks and top-k lists and the current marks, without re-encoding.
   */
  getEvalMetricsWithMarks: { input: z.object({ runId: id }).strict(), output: EvalMarkedMetrics },
  /**
   * A run, or run `runId` against `compareRunId` (Δ = run − other, as the Compare tab), as one self-contained
   * HTML file written to `out`: metrics with 95% intervals, significance labels, histograms, failure slices,
   * the worst queries with embedded thumbnails, the model's card and the data snapshot. Takes seconds.
   */
  exportEvalReport: {
    input: z.object({ runId: id, compareRunId: id.optional(), out: absolutePath }).strict(),
    output: EvalReport,
  },
} as const;

export const events = {
  jobProgress: Job,
  jobFinished: Job,
  dataChanged: z.object({
    entity: z.enum(['jobs', 'mediaRoots', 'datasets', 'models', 'labels']),
    id: z.number().optional(),
    /**
     * Labels: the newest label event the change wrote (absent when not known: another process's edits, deleted
     * labels). The client that made the edit has its reply with the same event, so it re-reads only once.
     */
    labelEventId: z.number().optional(),
  }),
} as const;

export type MethodName = keyof typeof methods;
export type EventName = keyof typeof events;
export type MethodInput<K extends MethodName> = z.input<(typeof methods)[K]['input']>;
export type MethodArgs<K extends MethodName> = z.output<(typeof methods)[K]['input']>;
export type MethodResult<K extends MethodName> = z.output<(typeof methods)[K]['output']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

export const methodNames: readonly MethodName[] = METHOD_NAMES;
export const eventNames: readonly EventName[] = EVENT_NAMES;

// Compile-time proof that names.ts lists exactly the methods and events above.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _methodsListed: Same<(typeof METHOD_NAMES)[number], MethodName> = true;
const _eventsListed: Same<(typeof EVENT_NAMES)[number], EventName> = true;
void _methodsListed;
void _eventsListed;

/** What the renderer sees as `window.mome`, whether it runs in Electron (preload) or in a browser (bridge). */
export type MomeApi = {
  [K in MethodName]: (args: MethodInput<K>) => Promise<MethodResult<K>>;
} & {
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
};

/** The error shape every transport carries. `code` is stable; `message` is for people. */
export const ApiErrorBody = z.object({
  code: z.enum([
    'invalid_arguments',
    'invalid_result',
    'not_found',
    'forbidden',
    'conflict',
    'internal',
    'unknown_method',
    'unauthorized',
  ]),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorBody['code'],
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  toBody(): ApiErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }
}
