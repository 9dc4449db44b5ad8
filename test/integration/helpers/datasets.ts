// Small real-shaped dataset folders for importer tests.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export interface KarpathyImage {
  filepath?: string;
  filename: string;
  imgid: number;
  split: string;
  sentences: { raw: string; tokens: string[]; imgid: number; sentid: number }[];
  sentids: number[];
  cocoid?: number;
}

export function cocoImages(n: number, captionsPerImage = 5): KarpathyImage[] {
  let sentid = 0;
  return Array.from({ length: n }, (_, imgid) => {
    const split = imgid % 10 === 0 ? 'test' : imgid % 10 === 1 ? 'val' : imgid % 3 ? 'train' : 'restval';
    const folder = split === 'train' ? 'train2014' : 'val2014';
    const cocoid = 100000 + imgid;
    const sentences = Array.from({ length: captionsPerImage }, (_, k) => {
      const raw = `A photo number ${imgid} showing thing ${k}.`;
      return { raw, tokens: raw.toLowerCase().replace('.', '').split(' '), imgid, sentid: sentid++ };
    });
    return {
      filepath: folder,
      filename: `COCO_${folder}_${String(cocoid).padStart(12, '0')}.jpg`,
      imgid,
      split,
      sentences,
      sentids: sentences.map((s) => s.sentid),
      cocoid,
    };
  });
}

export async function writeCoco(root: string, images: KarpathyImage[], opts: { withImages?: boolean } = {}) {
  fs.mkdirSync(path.join(root, 'train2014'), { recursive: true });
  fs.mkdirSync(path.join(root, 'val2014'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dataset_coco.json'), JSON.stringify({ images, dataset: 'coco' }));
  if (opts.withImages !== false) {
    const jpg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#884422' } })
      .jpeg()
      .toBuffer();
    for (const img of images) fs.writeFileSync(path.join(root, img.filepath!, img.filename), jpg);
  }
}
