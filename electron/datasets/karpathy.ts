// Karpathy-split annotation files as published: dataset_coco.json and dataset_flickr30k.json.
// {images: [{filepath (COCO), filename, imgid, split, sentences: [{raw, tokens, imgid, sentid}], sentids, cocoid (COCO)}]}
import fs from 'node:fs';
import path from 'node:path';
import type { KarpathyKind } from './detect';
import { streamJsonArray } from './json-array-stream';
import { MAX_TEXT_LENGTH, type ImageRecord } from './records';
import { RecordChecker } from './validate';

export const KARPATHY_SPLITS = new Set(['train', 'val', 'test', 'restval']);

/** Flickr30K images sit in flickr30k-images/ (or images/, or beside the json); COCO uses each record's filepath. */
export function flickrImageDir(root: string): string {
  for (const dir of FLICKR_IMAGE_DIRS) {
    if (fs.existsSync(path.join(root, dir))) return dir;
  }
  return ''; // beside the json
}

export const FLICKR_IMAGE_DIRS = ['flickr30k-images', 'images', 'flickr30k_images'];

/** COCO's train2014/ and val2014/ sit beside the json, or (a common layout) under images/. */
export function cocoImageDir(root: string, filepath: string): string {
  if (fs.existsSync(path.join(root, filepath))) return filepath;
  const under = path.posix.join('images', filepath);
  return fs.existsSync(path.join(root, under)) ? under : filepath;
}

export interface ReadProgress {
  (done: number, total: number, records: number): void;
}

export async function* readKarpathy(
  root: string,
  file: string,
  kind: KarpathyKind,
  onProgress: ReadProgress,
): AsyncGenerator<ImageRecord> {
  const flickrDir = kind === 'flickr30k' ? flickrImageDir(root) : '';
  const cocoDirs = new Map<string, string>(); // filepath -> where it is (two values in the real file)
  const rel = path.basename(file);
  for await (const el of streamJsonArray(file, 'images')) {
    const check = new RecordChecker(rel, el.line, `images[${el.index}]`);
    const img = check.object(el.value, 'images[]');
    const filename = check.safeRelative(img, 'filename');
    const imgid = check.integer(img, 'imgid');
    const split = check.string(img, 'split', 20);
    if (!KARPATHY_SPLITS.has(split)) check.fail('split', `"${split}" is not one of train, val, test, restval`);
    let file = path.posix.join(flickrDir, filename);
    let cocoid: number | null = null;
    if (kind === 'coco') {
      const filepath = check.safeRelative(img, 'filepath');
      if (!cocoDirs.has(filepath)) cocoDirs.set(filepath, cocoImageDir(root, filepath));
      file = path.posix.join(cocoDirs.get(filepath)!, filename);
      cocoid = check.integer(img, 'cocoid');
    }
    const sentences = check.array(img, 'sentences');
    const captions = sentences.map((s, i) => {
      const sc = new RecordChecker(rel, el.line, `images[${el.index}].sentences[${i}]`);
      const sent = sc.object(s, 'sentences[]');
      const raw = sc.string(sent, 'raw', MAX_TEXT_LENGTH);
      const sentid = sc.integer(sent, 'sentid');
      if (sc.integer(sent, 'imgid') !== imgid)
        sc.fail('imgid', `the sentence names image ${sent.imgid}, but it belongs to image ${imgid}`);
      sc.array(sent, 'tokens');
      return { sentid, raw };
    });
    check.array(img, 'sentids');
    onProgress(el.bytesRead, el.totalBytes, el.index + 1);
    yield { sourceId: String(imgid), split, file, cocoid, flags: [], captions };
  }
}
