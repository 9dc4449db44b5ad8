// Writes a dataset_coco.json with the full COCO-Karpathy shape (123,287 images, 616,767 captions:
// 113,287 train+restval, 5,000 val, 5,000 test) streamed to disk; images are not written (they show as missing).
// Other sizes keep the shape (5,000 test and 5,000 val images, then restval and train; five captions an image,
// the extra ones on the first images), and the seed picks the words.
import fs from 'node:fs';
import path from 'node:path';

const WORDS = [
  'a',
  'man',
  'woman',
  'dog',
  'cat',
  'red',
  'blue',
  'sitting',
  'on',
  'the',
  'bench',
  'next',
  'to',
  'street',
  'with',
  'two',
  'small',
  'large',
  'table',
  'plate',
  'of',
  'food',
  'riding',
  'bike',
  'near',
  'water',
];

export function writeKarpathyScale(
  root: string,
  images = 123_287,
  captions = 616_767,
  seed = 12345,
): { images: number; captions: number } {
  fs.mkdirSync(path.join(root, 'train2014'), { recursive: true });
  fs.mkdirSync(path.join(root, 'val2014'), { recursive: true });
  const fd = fs.openSync(path.join(root, 'dataset_coco.json'), 'w');
  let rng = seed;
  const rand = () => (rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const extra = captions - images * 5; // a few images have 6 or 7 captions, as in the real file
  let sentid = 0;
  let buffer = '{"images": [';
  for (let imgid = 0; imgid < images; imgid++) {
    const split = imgid < 5000 ? 'test' : imgid < 10000 ? 'val' : imgid < 40504 ? 'restval' : 'train';
    const folder = split === 'train' ? 'train2014' : 'val2014';
    const cocoid = 100000 + imgid;
    const n = 5 + (imgid < extra ? 1 : 0);
    const sentences = [];
    for (let k = 0; k < n; k++) {
      const len = 8 + Math.floor(rand() * 8);
      const tokens = Array.from({ length: len }, () => WORDS[Math.floor(rand() * WORDS.length)]);
      sentences.push({ tokens, raw: `${tokens.join(' ')}.`, imgid, sentid: sentid++ });
    }
    const rec = {
      filepath: folder,
      sentids: sentences.map((s) => s.sentid),
      filename: `COCO_${folder}_${String(cocoid).padStart(12, '0')}.jpg`,
      imgid,
      split,
      sentences,
      cocoid,
    };
    buffer += (imgid ? ', ' : '') + JSON.stringify(rec);
    if (buffer.length > 1 << 20) {
      fs.writeSync(fd, buffer);
      buffer = '';
    }
  }
  fs.writeSync(fd, `${buffer}], "dataset": "coco"}`);
  fs.closeSync(fd);
  return { images, captions: sentid };
}
