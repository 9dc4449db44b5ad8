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

export function detectDatasetKind(dir: string): Detection {
  for (const kind of ['coco', 'flickr30k'] as const) {
    const file = path.join(dir, KARPATHY_FILES[kind]);
    if (fs.existsSync(file)) return { kind, annotationFiles: [file] };
  }
  const nlvr2 = NLVR2_FILES.map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f) && looksLikeNlvr2(f));
  if (nlvr2.length > 0) return { kind: 'nlvr2', annotationFiles: nlvr2 };
  return { kind: null, annotationFiles: [] };
}
