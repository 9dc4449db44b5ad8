// Which dataset a folder holds, judged from its annotation files (names as published).
import fs from 'node:fs';
import path from 'node:path';

export type DatasetKind = 'coco' | 'flickr30k' | 'nlvr2';

export const KARPATHY_FILES: Record<'coco' | 'flickr30k', string> = {
  coco: 'dataset_coco.json',
  flickr30k: 'dataset_flickr30k.json',
};
export const NLVR2_FILES = ['train.json', 'dev.json', 'test1.json'];

/** Reads the first line of a json-lines file without reading the whole file. */
function firstLine(file: string, maxBytes = 64 * 1024): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(maxBytes);
    const n = fs.readSync(fd, buf, 0, maxBytes, 0);
    const text = buf.subarray(0, n).toString('utf8');
    const nl = text.indexOf('\n');
    return nl === -1 ? text : text.slice(0, nl);
  } finally {
    fs.closeSync(fd);
  }
}

function looksLikeNlvr2(file: string): boolean {
  try {
    const rec = JSON.parse(firstLine(file)) as Record<string, unknown>;
    return typeof rec.identifier === 'string' && typeof rec.sentence === 'string' && 'label' in rec;
  } catch {
    return false;
  }
}

export interface Detection {
  kind: DatasetKind | null;
  annotationFiles: string[];
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
  const nlvr2 = annotationFilesFor(dir, 'nlvr2').filter(looksLikeNlvr2);
  if (nlvr2.length > 0) return { kind: 'nlvr2', annotationFiles: nlvr2 };
  return { kind: null, annotationFiles: [] };
}
