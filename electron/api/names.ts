// The method and event names as plain constants, with no runtime dependency, for the sandboxed preload and
// the renderer. contract.ts checks at compile time that these lists equal its tables.
export const METHOD_NAMES = [
  'getAppInfo',
  'listJobs',
  'getJob',
  'cancelJob',
  'startFolderScan',
  'listMediaRoots',
  'addMediaRoot',
  'listDirectory',
  'pickFolder',
  'pickFile',
  'startDatasetImport',
  'listDatasets',
  'removeDataset',
  'countLabels',
  'browseImages',
  'getImageItem',
  'findLabelItem',
  'browseNlvr2',
  'getDatasetStats',
  'editLabels',
  'undoLabel',
  'redoLabel',
  'revertLabel',
  'listLabelEvents',
  'getLabelState',
  'startDatasetExport',
  'startEvaluation',
  'listEvalRuns',
  'getEvalItems',
  'compareEvalRuns',
  'getEvalItemDetail',
  'getEvalSummary',
  'getEmbeddingMap',
  'listModels',
  'getModelCard',
  'setModelDevice',
  'startModelImport',
  'setActiveModel',
  'removeModel',
  'previewFineTune',
  'startFineTune',
  'resumeFineTune',
  'getFineTune',
  'listFineTunes',
] as const;

export const EVENT_NAMES = ['jobProgress', 'jobFinished', 'dataChanged'] as const;

/** IPC channels of the Electron transport. */
export const IPC_CALL = 'mome:call';
export const IPC_EVENT = 'mome:event';
