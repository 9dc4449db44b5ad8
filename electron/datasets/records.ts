// Normalized records the importers produce, whatever the source format.
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
