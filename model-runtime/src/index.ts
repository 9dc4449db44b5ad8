// The model runtime's front door: what the backend (electron/) and the benches (bench/) use, and nothing else.
// Importing it loads ONNX Runtime and sharp. Code that also runs inside a worker thread or at build time imports
// runtime-paths instead, which loads no native module; the worker entries import their own modules directly.
// eslint.config.js keeps electron/ and bench/ to these two doors; docs/runtime.md lists what is here and why.

// Files the app reads at run time, and worker threads, in source, build and packaged modes
export { assetsDir, rendererDir, startWorker } from './runtime-paths';

// Python: the interpreter that runs `python -m mome` (fine-tuning, conversion, export)
export {
  CANDIDATES,
  findPython,
  preferredPython,
  pythonEnv,
  pythonSelection,
  PythonNotFoundError,
  searchPython,
  setPreferredPython,
} from './python';
export {
  discoverInterpreters,
  inspectInterpreter,
  interpreterKey,
  MIN_TORCH,
  prefixPython,
  type PythonInterpreter,
} from './python-interpreters';

// Model folders and inference sessions
export { ModelDirectoryError, readModelConfig } from './model/config';
export { MomeModel } from './model/model';
export { chooseProviders, cudaStatus } from './session/providers';

// Images: decoding and the tensor the image encoder takes
export { decodeRgb, ImageDecodeError, MAX_INPUT_PIXELS, toTensor } from './image/preprocess';

// Embeddings cached on disk, keyed by image file or caption text
export { EmbeddingCache, fileKey, readEmbeddings, textKey } from './cache/embedding-cache';

// Retrieval: scoring a split, re-ranking with ITM, and ranking a split's images for one query
export {
  createScoreSession,
  recallMetrics,
  scoreRetrieval,
  type RetrievalMetrics,
  type ScoreResult,
} from './retrieval/score';
export {
  createStreamSessions,
  DEFAULT_CHUNK_CAPTIONS,
  DEFAULT_SCORE_BUDGET_BYTES,
  scoreRetrievalStream,
  type CaptionChunk,
  type StreamScoreResult,
  type StreamSessions,
  tileImages,
} from './retrieval/score-stream';
export { matmulGraph } from './retrieval/score-graph';
export { rerankWithItm } from './retrieval/rerank';
export { imagesTensor, itmOrder, itmProbabilities, queryLength, querySession, rankImages } from './retrieval/query';

// Statistics: bootstrap intervals, paired differences, failure-slice gaps
export {
  bootstrapRecall,
  DEFAULT_RESAMPLES,
  groupGap,
  labelDifference,
  mcnemarExact,
  normalQuantile,
  pairedBootstrapRecall,
  quantile,
  seededRandom,
  type DifferenceLabel,
} from './retrieval/bootstrap';

// Embedding maps: a 2-D projection of embeddings, computed in a worker thread
export { projectInWorker, wholeMapInWorker } from './embedding-map/project';
export { sampleIndices, type WholeMapStage } from './embedding-map/whole-map';
export { rng } from './embedding-map/projection';

// The model commands of the `mome` CLI (embed, run-graphs, tokenize, and the Python ones)
export { runCli, usage } from './cli/main';
