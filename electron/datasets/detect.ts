// Which dataset a folder holds, judged from its annotation files (names as published).
import fs from 'node:fs';
import path from 'node:path';

import type { DatasetKind } from '../api/schemas';

/** The kinds whose annotations come in Karpathy's split file (dataset_coco.json, dataset_flickr30k.json). */
export type KarpathyKind = Exclude<DatasetKind, 'nlvr2'>;

export const KARPATHY_FILES: Record<KarpathyKind, string> = {
  coco: 'dataset_coco.json',
  flickr30k: 'dataset_flickr30k.json',
};
export const NLVR2_FILES = ['train.json', 'dev.json', 'test1.json'];

/** The first non-blank line of a json-lines file (its reader skips blank lines too), without reading it all. */
function firstRecordLine(file: string, maxBytes = 64 * 1024): { line: string; number: number } | null {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(maxBytes);
    const n = fs.readSync(fd, buf, 0, maxBytes, 0);
    const lines = buf.subarray(0, n).toString('utf8').split('\n');
    const at = lines.findIndex((l) => l.trim() !== '');
    return at === -1 ? null : { line: lines[at], number: at + 1 };
  } finally {
    fs.closeSync(fd);
  }
}

/** Why a file named like an NLVR2 annotation file is not read as one (null: it looks like NLVR2). */
function notNlvr2Because(file: string): string | null {
  const first = firstRecordLine(file);
  if (!first) return 'it holds no record';
  try {
    const rec = JSON.parse(first.line) as Record<string, unknown>;
    const ok = typeof rec.identifier === 'string' && typeof rec.sentence === 'string' && 'label' in rec;
    return ok ? null : `line ${first.number} is not an NLVR2 example (identifier, sentence, label)`;
  } catch (e) {
    return `line ${first.number} is not JSON (${(e as Error).message})`;
  }
}

export interface Detection {
  kind: DatasetKind | null;
  annotationFiles: string[];
  /** Files named as NLVR2's that were not taken for NLVR2, each with why (for the "nothing found" message). */
  rejected?: { file: string; reason: string }[];
}

/**
 * Where annotation files sit: in the folder itself, or where VLMo / ViLT's data preparation expects them
 * (karpathy/dataset_coco.json, karpathy/dataset_flickr30k.json, data/train.json …) with the images beside.
 */
const PLACES: Record<DatasetKind, string[]> = {
  coco: ['', 'karpathy'],
  flickr30k: ['', 'karpathy'],
  nlvr2: ['', 'data'],
};

/** The annotation files of `kind` in `dir` (the first place that has any). */
export function annotationFilesFor(dir: string, kind: DatasetKind): string[] {
  const names = kind === 'nlvr2' ? NLVR2_FILES : [KARPATHY_FILES[kind]];
  for (const place of PLACES[kind]) {
    const found = names
      .map((n) => path.join(dir, place, n))
      .filter((f) => fs.statSync(f, { throwIfNoEntry: false })?.isFile());
    if (found.length > 0) return found;
  }
  return [];
}

export function detectDatasetKind(dir: string): Detection {
  for (const kind of ['coco', 'flickr30k'] as const) {
    const files = annotationFilesFor(dir, kind);
    if (files.length > 0) return { kind, annotationFiles: files };
  }
  const named = annotationFilesFor(dir, 'nlvr2').map((file) => ({ file, reason: notNlvr2Because(file) }));
  const nlvr2 = named.filter((n) => n.reason === null).map((n) => n.file);
  if (nlvr2.length > 0) return { kind: 'nlvr2', annotationFiles: nlvr2 };
  const rejected = named.map((n) => ({ file: n.file, reason: n.reason! }));
  return { kind: null, annotationFiles: [], ...(rejected.length ? { rejected } : {}) };
}
