// Image sizes and aspects of a retrieval run's images, a candidate family of the failure slices ("captions of
// wide images", "images under 0.25 megapixels"). The store keeps no image dimensions, so they are read from the
// files' headers (sharp's metadata, no decoding) once per dataset and kept in memory; only files inside the
// dataset folder are read, as the evaluation reads them.
import sharp from 'sharp';
import type { Db } from '../store/db';
import { perDb } from '../store/per-db';
import { datasetRoot } from '../datasets/repository';
import { embeddingKeys } from './embed';
import { rankedQueries } from './items';
import { getEvalRun } from './repository';

/** Image file (as the dataset lists it) → its shape group values. */
export type ImageShapes = Map<string, { aspect: string; size: string }>;

const memos = new WeakMap<Db, Map<string, Promise<ImageShapes>>>();

export function aspectOf(width: number, height: number): string {
  const r = width / height;
  return r >= 1.2 ? 'wide' : r <= 1 / 1.2 ? 'tall' : 'square';
}

export function sizeOf(width: number, height: number): string {
  const mp = (width * height) / 1e6;
  return mp < 0.25 ? 'under 0.25 MP' : mp < 1 ? '0.25–1 MP' : '1 MP or more';
}

/** The shapes of a retrieval run's images; null for NLVR2 runs. */
export function imageShapes(db: Db, runId: number): Promise<ImageShapes | null> {
  const run = getEvalRun(db, runId);
  if (run.task !== 'retrieval') return Promise.resolve(null);
  const memo = perDb(memos, db);
  const key = `${run.datasetId}|${run.split}`;
  let m = memo.get(key);
  if (!m) {
    m = read(db, run.id, run.datasetId);
    memo.set(key, m);
    m.catch(() => memo!.delete(key));
    if (memo.size > 8) memo.delete(memo.keys().next().value!);
  }
  return m;
}

async function read(db: Db, runId: number, datasetId: number): Promise<ImageShapes> {
  const files = [...new Set(rankedQueries(db, runId, datasetId, 'image').map((q) => q.imageFile!))];
  const { real } = await embeddingKeys(
    datasetRoot(db, datasetId),
    files.map((file, i) => ({ id: i, source_id: String(i), file, split: '' })),
    [],
  );
  const out: ImageShapes = new Map();
  for (let s = 0; s < files.length; s += 16)
    await Promise.all(
      files.slice(s, s + 16).map(async (file, j) => {
        const path = real[s + j];
        if (!path) return;
        const meta = await sharp(path)
          .metadata()
          .catch(() => null);
        if (meta?.width && meta.height)
          out.set(file, { aspect: aspectOf(meta.width, meta.height), size: sizeOf(meta.width, meta.height) });
      }),
    );
  return out;
}
