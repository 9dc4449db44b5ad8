// Domain schemas shared by every side of the contract (backend, bridge, preload, renderer).
import { z } from 'zod';

export const JobState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']);
export type JobState = z.infer<typeof JobState>;

export const Job = z.object({
  id: z.number().int().positive(),
  kind: z.string(),
  title: z.string(),
  state: JobState,
  progress: z.number().min(0).max(1),
  message: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  params: z.unknown(),
  result: z.unknown().nullable(),
});
export type Job = z.infer<typeof Job>;

export const MediaRoot = z.object({
  id: z.number().int().positive(),
  path: z.string(),
  label: z.string(),
  createdAt: z.string(),
});
export type MediaRoot = z.infer<typeof MediaRoot>;

export const ActiveModel = z.object({
  name: z.string(),
  version: z.string(),
  /** Execution provider in use (or that will be used on first load), e.g. "cpu", "cuda". */
  provider: z.string(),
  /** Why this provider: e.g. "CUDA not available: onnxruntime-node's CUDA provider is not installed". */
  providerReason: z.string(),
  /** The device the user chose: 'auto' (CUDA where it can run) or 'cpu' explicitly. */
  device: z.enum(['auto', 'cpu']).optional(),
});
export type ActiveModel = z.infer<typeof ActiveModel>;

export const AppInfo = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'browser']),
  home: z.string(),
  databasePath: z.string(),
  activeModel: ActiveModel.nullable(),
  platform: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

/** Summary a folder scan produces: what is in a folder and what kind of dataset it looks like. */
export const DatasetKind = z.enum(['coco', 'flickr30k', 'nlvr2']);
export type DatasetKind = z.infer<typeof DatasetKind>;

export const FolderScan = z.object({
  path: z.string(),
  files: z.number().int(),
  directories: z.number().int(),
  images: z.number().int(),
  bytes: z.number(),
  imageExtensions: z.record(z.string(), z.number().int()),
  detectedKind: DatasetKind.nullable(),
  annotationFiles: z.array(z.string()),
  unreadable: z.array(z.string()),
});
export type FolderScan = z.infer<typeof FolderScan>;

export const DirEntry = z.object({ name: z.string(), path: z.string(), isDirectory: z.boolean() });
export type DirEntry = z.infer<typeof DirEntry>;

export const SplitCounts = z.object({
  images: z.number().int().optional(),
  captions: z.number().int().optional(),
  examples: z.number().int().optional(),
});

export const Dataset = z.object({
  id: z.number().int().positive(),
  kind: DatasetKind,
  name: z.string(),
  root: z.string(),
  importedAt: z.string(),
  refreshedAt: z.string().nullable(),
  splits: z.record(z.string(), SplitCounts),
  images: z.number().int(),
  captions: z.number().int(),
  examples: z.number().int(),
  missingImages: z.number().int(),
  flaggedImages: z.record(z.string(), z.number().int()),
});
export type Dataset = z.infer<typeof Dataset>;

export const Caption = z.object({
  id: z.number().int(),
  sentid: z.number().int(),
  position: z.number().int(),
  raw: z.string(),
});
export type Caption = z.infer<typeof Caption>;

export const ImageItem = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  sourceId: z.string(),
  cocoid: z.number().int().nullable(),
  split: z.string(),
  file: z.string(),
  path: z.string(),
  flags: z.array(z.string()),
  firstCaption: z.string().nullable(),
  captionCount: z.number().int(),
});
export type ImageItem = z.infer<typeof ImageItem>;

export const ImageDetail = ImageItem.extend({ captions: z.array(Caption) });
export type ImageDetail = z.infer<typeof ImageDetail>;

export const Nlvr2Example = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  identifier: z.string(),
  split: z.string(),
  sentence: z.string(),
  label: z.boolean().nullable(),
  leftPath: z.string(),
  rightPath: z.string(),
  flags: z.array(z.string()),
  /** The record's other published fields (synset, query, writer, validation, image URLs, …), as read. */
  extra: z.record(z.string(), z.unknown()).optional(),
});
export type Nlvr2Example = z.infer<typeof Nlvr2Example>;

export const Page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ total: z.number().int(), offset: z.number().int(), items: z.array(item) });

/**
 * A page of a dataset's images. A caption search (every word, the last one also as a prefix) counts at most
 * 10,000 matching images: with more, `total` is that cap, `capped` is true (the UI shows "10,000+") and the pages
 * come from the first 10,000 in the caption index's order (the file order), sorted as asked; they match the words
 * as typed when those alone match more than the cap.
 */
export const ImagePage = Page(ImageItem).extend({ capped: z.boolean().optional() });
export type ImagePage = z.infer<typeof ImagePage>;

export const DatasetStats = z.object({
  datasetId: z.number().int(),
  splits: z.record(z.string(), SplitCounts),
  missingImages: z.number().int(),
  /** Caption (or NLVR2 sentence) length in words: counts per bin of `binWidth` words. */
  lengthHistogram: z.object({ binWidth: z.number().int(), counts: z.array(z.number().int()) }),
});
export type DatasetStats = z.infer<typeof DatasetStats>;

export const LabelTargetKind = z.enum(['caption', 'image', 'nlvr2', 'pair']);
export type LabelTargetKind = z.infer<typeof LabelTargetKind>;
export const LabelTarget = z.object({
  datasetId: z.number().int().positive(),
  kind: LabelTargetKind,
  key: z.string().min(1).max(200),
});
export type LabelTarget = z.infer<typeof LabelTarget>;

export const LabelEvent = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  kind: LabelTargetKind,
  key: z.string(),
  field: z.string(),
  oldValue: z.unknown(),
  newValue: z.unknown(),
  author: z.string(),
  createdAt: z.string(),
  view: z.string().nullable(),
  evalRunId: z.number().int().nullable(),
  reverses: z.number().int().nullable(),
  action: z.enum(['edit', 'undo', 'redo', 'revert']),
  /** 'required': a correction written while corrections needed review (in force once someone accepts it). */
  review: z.enum(['required']).nullable().optional(),
});
export type LabelEvent = z.infer<typeof LabelEvent>;

export const EvalRun = z.object({
  id: z.number().int(),
  task: z.enum(['retrieval', 'nlvr2']),
  modelName: z.string(),
  modelDir: z.string(),
  modelVersion: z.string(),
  datasetId: z.number().int(),
  split: z.string(),
  options: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.number()),
  provider: z.string(),
  seconds: z.number(),
  createdAt: z.string(),
  /**
   * 95% percentile-bootstrap interval over the run's queries of each metric its stored ranks back
   * ({"tr_r1": [lo, hi], …}, in the metric's unit); absent where not computed (itc_… figures never have one).
   */
  ci95: z.record(z.string(), z.tuple([z.number(), z.number()])).optional(),
  /** How ci95 was computed: resamples and PRNG seed (the same seed gives the same interval). */
  bootstrap: z.object({ resamples: z.number().int(), seed: z.number().int() }).optional(),
});
export type EvalRun = z.infer<typeof EvalRun>;

/** What a difference between two runs amounts to at 95%. */
export const DifferenceLabel = z.enum(['better', 'worse', 'no detectable difference at 95%']);
export type DifferenceLabel = z.infer<typeof DifferenceLabel>;

/** One metric of run b against run a over the queries ranked in both (paired), in percentage points. */
export const MetricDifference = z.object({
  name: z.string(),
  queries: z.number().int(),
  delta: z.number(),
  /** Paired-bootstrap 95% interval of the difference. */
  ci95: z.tuple([z.number(), z.number()]),
  label: DifferenceLabel,
  /** NLVR2 accuracy: the exact McNemar test on the examples right in one run only (it decides the label). */
  mcnemar: z.object({ rightOnlyInA: z.number().int(), rightOnlyInB: z.number().int(), p: z.number() }).optional(),
});
export type MetricDifference = z.infer<typeof MetricDifference>;

/** What an evaluation item is: a caption (text query), an image (image query), or an NLVR2 example. */
export const EvalItemKind = z.enum(['caption', 'image', 'nlvr2']);
export type EvalItemKind = z.infer<typeof EvalItemKind>;

export const EvalItem = z.object({
  kind: EvalItemKind,
  key: z.string(),
  rank: z.number().int().nullable(),
  score: z.number().nullable(),
  mistakenness: z.number(),
  top: z.array(z.tuple([z.union([z.string(), z.number()]).nullable(), z.number()])).nullable(),
  /** The caption, the image's file or the NLVR2 sentence. */
  text: z.string().nullable().optional(),
  /** The item's split in the dataset (a caption's: its image's). */
  split: z.string().nullable().optional(),
});
export type EvalItem = z.infer<typeof EvalItem>;

/** One query whose outcome differs between two runs: its rank (0 = first) and score in each. */
export const EvalFlip = z.object({
  kind: EvalItemKind,
  key: z.string(),
  /** The caption, the image file or the NLVR2 sentence, to read the list without opening each item. */
  text: z.string().nullable(),
  rankA: z.number().int().nullable(),
  rankB: z.number().int().nullable(),
  scoreA: z.number().nullable(),
  scoreB: z.number().nullable(),
});
export type EvalFlip = z.infer<typeof EvalFlip>;

/** Run b against run a on the same dataset and split: metric deltas (b − a) and the per-item flips. */
export const EvalComparison = z.object({
  a: EvalRun,
  b: EvalRun,
  /** A retrieval query counts as a hit when ranked below `at`; an NLVR2 example when predicted right. */
  at: z.number().int(),
  metrics: z.array(
    z.object({ name: z.string(), a: z.number().nullable(), b: z.number().nullable(), delta: z.number().nullable() }),
  ),
  fixed: z.array(EvalFlip),
  broken: z.array(EvalFlip),
  totals: z.object({ compared: z.number().int(), fixed: z.number().int(), broken: z.number().int() }),
  /** Each metric backed by stored ranks: the paired difference, its interval and what it amounts to. */
  differences: z.array(MetricDifference).optional(),
  bootstrap: z.object({ resamples: z.number().int(), seed: z.number().int() }).optional(),
});
export type EvalComparison = z.infer<typeof EvalComparison>;

/** An image or caption shown beside a query: its score for the query, and whether it is the ground truth. */
export const EvalCandidate = z.object({
  kind: z.enum(['image', 'caption']),
  key: z.string(),
  /** A caption's text; null for an image. */
  text: z.string().nullable(),
  /** An image's file (absolute); a caption's image file. */
  path: z.string().nullable(),
  score: z.number().nullable(),
  /** For the ground truth: its rank for the query (0 = first). */
  rank: z.number().int().nullable(),
  isTruth: z.boolean(),
});
export type EvalCandidate = z.infer<typeof EvalCandidate>;

/**
 * One query of a run in full. A caption: its image (truth) next to the top-k images. An image: its captions
 * (truth, each with its own rank as a query) next to the top-k captions. An NLVR2 example: the pair.
 */
export const EvalItemDetail = EvalItem.extend({
  runId: z.number().int(),
  split: z.string().nullable(),
  path: z.string().nullable(),
  truth: z.array(EvalCandidate),
  candidates: z.array(EvalCandidate),
  nlvr2: z
    .object({
      label: z.boolean().nullable(),
      prediction: z.boolean(),
      probability: z.number(),
      leftPath: z.string(),
      rightPath: z.string(),
    })
    .nullable(),
});
export type EvalItemDetail = z.infer<typeof EvalItemDetail>;

export const HistogramBin = z.object({ label: z.string(), from: z.number(), to: z.number(), count: z.number().int() });
export type HistogramBin = z.infer<typeof HistogramBin>;

/** A run at a glance: where ground truth ranks, the score margins, misses, and NLVR2's confusion matrix. */
export const EvalSummary = z.object({
  runId: z.number().int(),
  histograms: z.array(
    z.object({ kind: z.enum(['caption', 'image']), what: z.enum(['rank', 'margin']), bins: z.array(HistogramBin) }),
  ),
  missed: z.array(z.object({ kind: EvalItemKind, at: z.number().int(), count: z.number().int() })),
  totals: z.record(z.string(), z.number().int()),
  /** NLVR2: counts by given label (rows) and prediction (columns). */
  confusion: z
    .object({
      trueTrue: z.number().int(),
      trueFalse: z.number().int(),
      falseTrue: z.number().int(),
      falseFalse: z.number().int(),
    })
    .nullable(),
});
export type EvalSummary = z.infer<typeof EvalSummary>;

/**
 * Groups of a run's queries whose metric falls furthest below the whole run's: caption (or statement) words
 * and word pairs, caption length, split; each with its size, metric and gap to the whole (95% intervals).
 */
export const FailureSlices = z.object({
  runId: z.number().int(),
  kind: EvalItemKind,
  /** The metric the groups are judged by: ir_r1 … tr_r10, accuracy. */
  metric: z.string(),
  at: z.number().int(),
  minSupport: z.number().int(),
  bootstrap: z.object({ resamples: z.number().int(), seed: z.number().int() }),
  whole: z.object({ size: z.number().int(), metric: z.number(), ci95: z.tuple([z.number(), z.number()]) }),
  /** Named groups looked at (before the minimum support). */
  candidates: z.number().int(),
  /** Groups of at least minSupport queries (and not nearly all): the family the ranking allows for. */
  tested: z.number().int(),
  slices: z.array(
    z.object({
      feature: z.enum(['word', 'bigram', 'category', 'length', 'split', 'aspect', 'size', 'cluster']),
      value: z.string(),
      /** In words: 'caption has “striped green”', 'caption of 16+ words', 'split val'. */
      label: z.string(),
      size: z.number().int(),
      missedCount: z.number().int(),
      metric: z.number(),
      ci95: z.tuple([z.number(), z.number()]),
      /** The group's metric minus the whole run's, in percentage points. */
      gap: z.number(),
      gapCi95: z.tuple([z.number(), z.number()]),
      /**
       * Upper end of the gap's family-wise 95% bound (Bonferroni over the `tested` groups; the ranking key).
       * Below 0: the group is worse even allowing for having looked at every group.
       */
      gapBound: z.number(),
      /** The group's missed queries, worst rank first (up to 100), to open. */
      missed: z.array(z.object({ key: z.string(), text: z.string().nullable(), rank: z.number().int() })),
    }),
  ),
});
export type FailureSlices = z.infer<typeof FailureSlices>;

/**
 * Two runs of one split (b against a): the failure slices' groups whose metric changed most, what b fixed and
 * what it broke, each with the paired difference and its 95% interval.
 */
const ChangedSlice = z.object({
  feature: z.enum(['word', 'bigram', 'category', 'length', 'split', 'aspect', 'size', 'cluster']),
  value: z.string(),
  label: z.string(),
  size: z.number().int(),
  /** The group's metric under run a and under run b, in percent. */
  a: z.number(),
  b: z.number(),
  /** b − a over the group's queries, percentage points, with its paired-bootstrap 95% interval. */
  delta: z.number(),
  ci95: z.tuple([z.number(), z.number()]),
  significance: z.enum(['better', 'worse', 'no detectable difference at 95%']),
  /** Queries a missed and b got right, and the other way round. */
  fixedCount: z.number().int(),
  brokenCount: z.number().int(),
  /** The end of Δ's family-wise 95% bound nearest 0 (Bonferroni over `tested` groups; the ranking key). */
  deltaBound: z.number(),
  /** Up to 50 of each, to open. */
  fixedItems: z.array(
    z.object({ key: z.string(), text: z.string().nullable(), rankA: z.number().int(), rankB: z.number().int() }),
  ),
  brokenItems: z.array(
    z.object({ key: z.string(), text: z.string().nullable(), rankA: z.number().int(), rankB: z.number().int() }),
  ),
});
export const ChangedSlices = z.object({
  a: z.number().int(),
  b: z.number().int(),
  kind: EvalItemKind,
  metric: z.string(),
  at: z.number().int(),
  minSupport: z.number().int(),
  bootstrap: z.object({ resamples: z.number().int(), seed: z.number().int() }),
  /** Queries both runs ranked, and b − a over all of them. */
  queries: z.number().int(),
  whole: z.object({ delta: z.number(), ci95: z.tuple([z.number(), z.number()]) }),
  tested: z.number().int(),
  fixed: z.array(ChangedSlice),
  broke: z.array(ChangedSlice),
});
export type ChangedSlices = z.infer<typeof ChangedSlices>;

/** A 2-D map of a retrieval run's image and caption embeddings (a sample of them), for colouring and picking. */
export const EmbeddingMap = z.object({
  runId: z.number().int(),
  method: z.string(),
  /** Images and captions in the run; the map holds a sample of them. */
  total: z.number().int(),
  points: z.array(
    z.object({
      kind: z.enum(['image', 'caption']),
      key: z.string(),
      text: z.string(),
      split: z.string(),
      /** The ground truth's rank for this query in the run (0 = first). */
      rank: z.number().int().nullable(),
      x: z.number(),
      y: z.number(),
    }),
  ),
});
export type EmbeddingMap = z.infer<typeof EmbeddingMap>;

/**
 * The map of every image and caption of a retrieval run (those with cached embeddings), as compact columns:
 * each a base64 string of a little-endian typed array with one value per point, so 740K points travel as a few
 * strings, not 740K objects.
 */
export const EmbeddingMapPoints = z.object({
  runId: z.number().int(),
  /** none: not computed yet; first: the landmark sample is placed (others NaN); full: every point. */
  stage: z.enum(['none', 'first', 'full']),
  method: z.string(),
  /** Images and captions in the run's split(s); `n` of them have cached embeddings and are points. */
  total: z.number().int(),
  n: z.number().int(),
  /** The job computing the map, while it runs. */
  jobId: z.number().int().nullable(),
  /** Seconds the projection took (when it was computed, not read from the cache). */
  seconds: z.number().nullable(),
  cached: z.boolean(),
  splits: z.array(z.string()),
  /** Float32: positions (NaN where not placed yet). */
  x: z.string(),
  y: z.string(),
  /** Uint8: 0 image, 1 caption. */
  kind: z.string(),
  /** Uint8: index into `splits`. */
  split: z.string(),
  /** Int32: the ground truth's rank for the point as a query (0 = first), −1 where it was not ranked. */
  rank: z.string(),
  /** Uint8: 0 never edited, 1 a label edited, 2 in a judged pair (hard negative or also a match). */
  label: z.string(),
});
export type EmbeddingMapPoints = z.infer<typeof EmbeddingMapPoints>;

/** One point of a run's whole map, to preview it or list it in a selection. */
export const EmbeddingMapItem = z.object({
  index: z.number().int(),
  kind: z.enum(['image', 'caption']),
  key: z.string(),
  /** The caption's text, or the image's file. */
  text: z.string(),
  split: z.string(),
  rank: z.number().int().nullable(),
  /** The image's absolute path (a caption's: its image's), for a thumbnail. */
  path: z.string(),
});
export type EmbeddingMapItem = z.infer<typeof EmbeddingMapItem>;

export const ModelVersion = z.object({
  id: z.number().int(),
  name: z.string(),
  version: z.string(),
  dir: z.string(),
  sourcePath: z.string(),
  sourceSha256: z.string().nullable(),
  parentId: z.number().int().nullable(),
  architecture: z.record(z.string(), z.unknown()),
  sizeBytes: z.number(),
  createdAt: z.string(),
  /** Set when the model was removed: its folder is gone, its evaluation runs stay and still name it. */
  removedAt: z.string().nullable(),
  active: z.boolean(),
});
export type ModelVersion = z.infer<typeof ModelVersion>;

export const ModelDevice = z.enum(['auto', 'cpu']);
/** Where models run here: the device chosen ('auto' or an explicit 'cpu'), the provider it gives, and why. */
export const ModelProvider = z.object({
  device: ModelDevice,
  provider: z.string(),
  reason: z.string(),
  cuda: z.object({ available: z.boolean(), reason: z.string() }),
});
export type ModelProvider = z.infer<typeof ModelProvider>;

/** A Python interpreter found on this machine (or chosen by the user), and what it can do for MoME. */
export const PythonInterpreter = z.object({
  path: z.string(),
  /** Where it was found: "PATH", "system", "conda env torch2", "pyenv 3.11.7", "VIRTUAL_ENV", "chosen", … */
  foundAs: z.array(z.string()),
  /** Other paths that run the same interpreter (a pyenv shim and its version, python and python3). */
  aliases: z.array(z.string()),
  pythonVersion: z.string().nullable(),
  torchVersion: z.string().nullable(),
  cuda: z.object({ available: z.boolean(), devices: z.array(z.string()) }),
  /** Modules besides torch it cannot import (numpy, Pillow, onnx). */
  missing: z.array(z.string()),
  /** It can fine-tune and convert: torch at least the minimum, numpy, Pillow and onnx. */
  ok: z.boolean(),
  /** Why not, and what to do; null when ok. */
  problem: z.string().nullable(),
  /** Fine-tunes and conversions run with this one. */
  inUse: z.boolean(),
});
export type PythonInterpreter = z.infer<typeof PythonInterpreter>;

/** The interpreter fine-tunes and conversions use, and the rule that picks it: MOME_PYTHON > chosen > automatic. */
export const PythonInUse = z.object({
  source: z.enum(['MOME_PYTHON', 'chosen', 'automatic']),
  /** null: the automatic search found none that imports torch. */
  path: z.string().nullable(),
  /** The interpreter the user chose, remembered in the home (also while MOME_PYTHON overrides it). */
  chosen: z.string().nullable(),
  /** Why none runs, or what is wrong with the one that does; null when all is well. */
  problem: z.string().nullable(),
});
export type PythonInUse = z.infer<typeof PythonInUse>;

export const ModelCard = z.object({
  model: ModelVersion,
  parent: z.object({ id: z.number().int(), name: z.string(), version: z.string(), removed: z.boolean() }).nullable(),
  provider: ModelProvider,
  /** Every evaluation run made with this model, newest first. */
  runs: z.array(EvalRun),
  /** The snapshot of the labels this version was trained on (null: not fine-tuned here), and its parent's. */
  labelSnapshot: z
    .lazy(() => LabelSnapshot)
    .nullable()
    .optional(),
  parentLabelSnapshot: z
    .lazy(() => LabelSnapshot)
    .nullable()
    .optional(),
  /**
   * A version fine-tuned here: its held-out result against its parent's (the fine-tune's before and after runs),
   * per metric the paired Δ with its 95% interval and label (McNemar for NLVR2). Null otherwise.
   */
  heldOut: z
    .object({
      jobId: z.number().int(),
      split: z.string(),
      beforeRunId: z.number().int(),
      afterRunId: z.number().int(),
      differences: z.array(MetricDifference),
    })
    .nullable()
    .optional(),
  /** Every registered version (removed ones too) with its newest metrics per task, dataset and split. */
  versions: z.array(
    z.object({
      modelId: z.number().int(),
      name: z.string(),
      version: z.string(),
      createdAt: z.string(),
      removed: z.boolean(),
      results: z.array(
        z.object({
          runId: z.number().int(),
          task: z.enum(['retrieval', 'nlvr2']),
          datasetId: z.number().int(),
          split: z.string(),
          metrics: z.record(z.string(), z.number()),
        }),
      ),
    }),
  ),
});
export type ModelCard = z.infer<typeof ModelCard>;

// Fine-tuning ------------------------------------------------------------------------------------------------

export const FineTuneTask = z.enum(['retrieval', 'nlvr2']);
/** What the user can set on the fine-tune sheet; the preview fills every field with a default. */
export const FineTuneSettings = z.object({
  task: FineTuneTask,
  /** A registered model version; null: the embedded default model. */
  baseModelId: z.number().int().positive().nullable(),
  epochs: z.number().int().min(1).max(100),
  lr: z.number().positive().max(1),
  batchSize: z.number().int().min(2).max(4096),
  device: z.enum(['auto', 'cpu', 'cuda']),
  /** full: every layer trains; fast: only heads (and top layers) on cached features; auto: fast on CPU for large models. */
  mode: z.enum(['auto', 'full', 'fast']),
  /** Stop after this many steps (null: the epochs decide). */
  maxSteps: z.number().int().positive().nullable(),
  seed: z.number().int().min(0),
});
export type FineTuneSettings = z.infer<typeof FineTuneSettings>;

export const FineTunePreview = z.object({
  datasetId: z.number().int(),
  datasetName: z.string(),
  kind: z.string(),
  /** The split the result is evaluated on, before and after (never trained on). */
  heldOutSplit: z.string(),
  counts: z.object({
    corrections: z.number().int(),
    hardNegatives: z.number().int(),
    extraPositives: z.number().int(),
    examples: z.number().int(),
    /** Corrections awaiting review that the fine-tune leaves out. */
    pendingLeftOut: z.number().int().default(0),
  }),
  /** One line for the button: "Retrieval on coco-sample train with my 75 corrections and 3 hard negatives". */
  summary: z.string(),
  defaults: FineTuneSettings,
  baseModel: z.object({ id: z.number().int().nullable(), name: z.string(), dir: z.string() }).nullable(),
  estimate: z.object({
    steps: z.number().int(),
    seconds: z.number(),
    samplesPerSecond: z.number(),
    /** "measured" (an earlier fine-tune of this model here) or "model size" (a rough rule). */
    basis: z.string(),
  }),
  /** The interpreter that will train; when none imports torch, the message says how to install it. */
  python: z.object({ found: z.boolean(), path: z.string().nullable(), message: z.string().nullable() }),
});
export type FineTunePreview = z.infer<typeof FineTunePreview>;

export const FineTunePoint = z.object({
  step: z.number().int(),
  loss: z.number(),
  lr: z.number(),
  samplesPerS: z.number().nullable(),
});
export type FineTunePoint = z.infer<typeof FineTunePoint>;

export const FineTune = z.object({
  jobId: z.number().int(),
  job: Job,
  datasetId: z.number().int(),
  task: FineTuneTask,
  baseModelId: z.number().int().nullable(),
  baseDir: z.string(),
  config: z.record(z.string(), z.unknown()),
  counts: z.record(z.string(), z.number()),
  dataSnapshot: z.string().nullable(),
  mode: z.string().nullable(),
  modeReason: z.string().nullable(),
  device: z.string().nullable(),
  /** The new model version (null until registered, or when the job failed). */
  modelId: z.number().int().nullable(),
  beforeRunId: z.number().int().nullable(),
  afterRunId: z.number().int().nullable(),
  samplesPerS: z.number().nullable(),
  points: z.array(FineTunePoint),
  logTail: z.array(z.string()),
  /** Stopped with a checkpoint its trainer wrote: resumeFineTune continues from it. */
  resumable: z.boolean(),
  /** The snapshot of the labels it trained on, and the one its base model was trained on (null: none). */
  labelSnapshotId: z.number().int().nullable().optional(),
  parentLabelSnapshotId: z.number().int().nullable().optional(),
  createdAt: z.string(),
});
export type FineTune = z.infer<typeof FineTune>;

/** One image a search found: its scores (the dual encoder's, and ITM's where re-ranked) and where it is. */
export const SearchHit = z.object({
  imageId: z.number().int(),
  imgid: z.string(),
  /** The image's path as the annotation file writes it (COCO: val2014/COCO_val2014_….jpg). */
  file: z.string(),
  path: z.string(),
  /** p(match) from ITM for the re-ranked top K, else the dual encoder's score. */
  score: z.number(),
  itcScore: z.number(),
  /** 0-based rank by the dual encoder. */
  itcRank: z.number().int(),
  /** The query's own image, when the query is one of the split's captions. */
  isTruth: z.boolean(),
});
export type SearchHit = z.infer<typeof SearchHit>;

/** A text search over a split: the results, or the job that encodes the split's images first. */
export const SearchResult = z.object({
  state: z.enum(['ready', 'encoding']),
  job: Job.nullable(),
  model: z.object({ id: z.number().int().nullable(), name: z.string(), version: z.string() }),
  /** The query as searched: its WordPiece count with [CLS]/[SEP] and whether the model's text length cut it. */
  query: z
    .object({ text: z.string(), tokens: z.number().int(), maxTokens: z.number().int(), truncated: z.boolean() })
    .nullable(),
  /** The split's caption the query is (its text, exactly), so its results can be marked; null for free text. */
  caption: z.object({ sentid: z.number().int(), imgid: z.string() }).nullable(),
  /** Image → image: the query image (left out of its results). */
  queryImage: z.object({ file: z.string(), imgid: z.string().nullable() }).nullable(),
  rerankK: z.number().int(),
  images: z.number().int(),
  unreadable: z.number().int(),
  seconds: z.number(),
  results: z.array(SearchHit),
});
export type SearchResult = z.infer<typeof SearchResult>;

/** R@1/5/10 (TR, IR) and mAP@R (TR, IR), in percent. */
const MarkedFigures = z.object({
  tr_r1: z.number(),
  tr_r5: z.number(),
  tr_r10: z.number(),
  ir_r1: z.number(),
  ir_r5: z.number(),
  ir_r10: z.number(),
  tr_map_r: z.number(),
  ir_map_r: z.number(),
});

/**
 * A retrieval run's figures with the "also a match" marks counted as correct (`withExtras`) beside the original
 * ones, recomputed from the run's stored ranks and top-k lists and the marks as they stand now (no re-encoding).
 * An extra positive ranked below the stored top k cannot be found without re-scoring: it counts as not retrieved.
 */
export const EvalMarkedMetrics = z.object({
  runId: z.number().int(),
  /** Length of the stored top-k lists. */
  k: z.number().int(),
  queries: z.object({ captions: z.number().int(), images: z.number().int() }),
  extraPositives: z.object({
    /** "Also a match" pairs whose caption and image are both in the run. */
    pairs: z.number().int(),
    inCaptionTopK: z.number().int(),
    outsideCaptionTopK: z.number().int(),
    inImageTopK: z.number().int(),
    outsideImageTopK: z.number().int(),
  }),
  original: MarkedFigures,
  withExtras: MarkedFigures,
  lowerBound: z.object({
    /** R@K for K above this (the stored k, when below 10) is a lower bound with extra positives; null: exact. */
    recallAbove: z.number().int().nullable(),
    /** Queries with more positives than the stored k: their AP@R is a lower bound. */
    trMapQueries: z.number().int(),
    irMapQueries: z.number().int(),
  }),
  ms: z.number(),
});
export type EvalMarkedMetrics = z.infer<typeof EvalMarkedMetrics>;

/** A shared report written (exportEvalReport): where, how large, how many thumbnails it embeds. */
export const EvalReport = z.object({
  path: z.string(),
  bytes: z.number().int(),
  thumbnails: z.number().int(),
});
export type EvalReport = z.infer<typeof EvalReport>;

// Adjudication and label snapshots ---------------------------------------------------------------------------

export const LabelSettings = z.object({
  /** "Corrections need review": a correction is pending until someone other than its author accepts it. */
  reviewRequired: z.boolean(),
  /** The name label events are written under; null: the OS user's name (`defaultUserName`). */
  userName: z.string().nullable(),
  defaultUserName: z.string(),
});
export type LabelSettings = z.infer<typeof LabelSettings>;

export const LabelFieldState = z.enum(['pending', 'accepted', 'rejected', 'unreviewed']);
export type LabelFieldState = z.infer<typeof LabelFieldState>;

export const LabelDecision = z.object({
  id: z.number().int(),
  eventId: z.number().int(),
  decision: z.enum(['accept', 'reject']),
  author: z.string(),
  createdAt: z.string(),
  note: z.string().nullable(),
  /** The event a rejection appended to restore the value in force. */
  revertEventId: z.number().int().nullable(),
});
export type LabelDecision = z.infer<typeof LabelDecision>;

/** An edited field of a dataset: its newest value, the value in force (what exports read) and its state. */
export const LabelField = z.object({
  datasetId: z.number().int(),
  kind: LabelTargetKind,
  key: z.string(),
  field: z.string(),
  state: LabelFieldState,
  value: z.unknown(),
  valueInForce: z.unknown(),
  original: z.unknown(),
  event: LabelEvent,
  decisions: z.array(LabelDecision),
});
export type LabelField = z.infer<typeof LabelField>;

export const LabelAgreement = z.object({
  agreement: z.array(
    z.object({
      authors: z.tuple([z.string(), z.string()]),
      items: z.number().int(),
      observed: z.number(),
      expected: z.number(),
      kappa: z.number().nullable(),
    }),
  ),
  conflicts: z.object({
    total: z.number().int(),
    items: z.array(
      z.object({
        kind: LabelTargetKind,
        key: z.string(),
        field: z.string(),
        state: LabelFieldState,
        judgements: z.array(
          z.object({ author: z.string(), value: z.unknown(), at: z.string(), eventId: z.number().int() }),
        ),
        decisions: z.array(LabelDecision),
      }),
    ),
  }),
});
export type LabelAgreement = z.infer<typeof LabelAgreement>;

/** A named point of a dataset's label history: marks into the history, never a copy of the labels. */
export const LabelSnapshot = z.object({
  id: z.number().int(),
  datasetId: z.number().int(),
  name: z.string(),
  reason: z.enum(['manual', 'finetune']),
  eventMark: z.number().int(),
  reviewMark: z.number().int(),
  author: z.string(),
  createdAt: z.string(),
  /** Edited fields in force at the snapshot. */
  corrections: z.number().int(),
  /** Fields with a pending correction the snapshot (and a fine-tune that took it) left out. */
  pendingLeftOut: z.number().int(),
  finetuneJobId: z.number().int().nullable(),
  modelId: z.number().int().nullable(),
});
export type LabelSnapshot = z.infer<typeof LabelSnapshot>;

export const LabelSnapshotDiff = z.object({
  datasetId: z.number().int(),
  /** null: the dataset as imported; for `to`, null: the labels in force now. */
  from: LabelSnapshot.nullable(),
  to: LabelSnapshot.nullable(),
  total: z.number().int(),
  changes: z.array(
    z.object({
      kind: LabelTargetKind,
      key: z.string(),
      field: z.string(),
      before: z.unknown(),
      after: z.unknown(),
      /** Who wrote the value `to` holds, and who accepted it (null: no review). */
      author: z.string().nullable(),
      acceptedBy: z.string().nullable(),
      eventId: z.number().int().nullable(),
    }),
  ),
});
export type LabelSnapshotDiff = z.infer<typeof LabelSnapshotDiff>;

/** The review queue's weights: label-error score and uncertainty (mixed by rank), near-duplicate spacing (0–1). */
export const ReviewWeights = z
  .object({
    labelError: z.number().min(0).max(1),
    uncertainty: z.number().min(0).max(1),
    diversity: z.number().min(0).max(1),
  })
  .strict();
export type ReviewWeights = z.infer<typeof ReviewWeights>;

/** One item of the review queue: a caption (sentid), an image (imgid) or an NLVR2 example (identifier). */
export const ReviewQueueItem = z.object({
  kind: EvalItemKind,
  key: z.string(),
  /** Its place in the whole queue (0 = first), reviewed items included. */
  position: z.number().int(),
  score: z.number(),
  signals: z.object({ labelError: z.number(), uncertainty: z.number() }),
  text: z.string().nullable(),
  split: z.string().nullable(),
});
export type ReviewQueueItem = z.infer<typeof ReviewQueueItem>;

/**
 * A dataset's review queue, scored from the newest evaluation of the active model (of another model where the
 * active one has none yet: `fromActiveModel` false). Items already decided in the Review view are left out.
 */
export const ReviewQueue = z.object({
  run: EvalRun.nullable(),
  /** The splits this dataset has runs for, for the task its kind implies ('*': all splits). */
  splits: z.array(z.string()),
  fromActiveModel: z.boolean(),
  weights: ReviewWeights,
  /** Whether near-duplicates could be spaced (the run's embeddings are cached). */
  diversityApplied: z.boolean(),
  /** Items in the queue, decided ones included, and how many are decided. */
  size: z.number().int(),
  decided: z.number().int(),
  /** Undecided items left, and one page of them in queue order. */
  total: z.number().int(),
  offset: z.number().int(),
  items: z.array(ReviewQueueItem),
});
export type ReviewQueue = z.infer<typeof ReviewQueue>;
