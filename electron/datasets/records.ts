// Normalized records the importers produce, whatever the source format, and what an import reports.
import type { DatasetKind } from '../api/schemas';

export interface ImageRecord {
  sourceId: string; // imgid as in the annotation file
  split: string;
  file: string; // path relative to the dataset root
  cocoid: number | null;
  flags: readonly string[]; // missing | empty | outside-root
  captions: { sentid: number; raw: string }[];
}

export interface Nlvr2Record {
  identifier: string;
  split: string;
  sentence: string;
  label: 0 | 1 | null;
  leftFile: string;
  rightFile: string;
  flags: readonly string[];
  extra: Record<string, unknown>;
}

/** Longest caption or sentence accepted; real COCO captions stay under 300 characters. */
export const MAX_TEXT_LENGTH = 2000;

/** A folder reserved for one import: a hidden dataset row (fresh import) or the dataset being refreshed. */
export interface ImportClaim {
  root: string;
  datasetId: number;
  fresh: boolean;
}

export interface SplitCounts {
  images?: number;
  captions?: number;
  examples?: number;
}

export interface ImportSummary {
  datasetId: number;
  kind: DatasetKind;
  name: string;
  root: string;
  splits: Record<string, SplitCounts>;
  images: number;
  captions: number;
  examples: number;
  missingImages: number;
  flaggedImages: Record<string, number>;
  seconds: number;
  refreshed: boolean;
}

/** A stored NLVR2 example, as the nlvr2_examples table holds it. */
export interface Nlvr2ExampleRow {
  id: number;
  dataset_id: number;
  identifier: string;
  split: string;
  sentence: string;
  label: number | null;
  left_file: string;
  right_file: string;
  flags: string;
  extra: string;
}
