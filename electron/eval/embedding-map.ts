// The embedding map of a retrieval run: a seeded sample of its images and captions, their cached
// dual-encoder embeddings projected to 2-D (PCA-initialised t-SNE in a worker thread), each point with its
// split and its ground-truth rank so the UI can colour by split or by error and open the item.
import { ApiError } from '../api/contract';
import type { EmbeddingMap, EvalRun } from '../api/schemas';
import type { Db } from '../store/db';
import { datasetRoot } from '../datasets/repository';
import { projectInWorker, rng } from '../../model-runtime/src/index';
import { cachedDim, embeddingKeys, openCaches, runCacheKeys } from './embed';
import { itemRanks } from './items';
import { getEvalRun } from './repository';
import { splitImages } from '../datasets/items';
import { splitCaptions } from './retrieval-eval';

const computed = new Map<string, Promise<EmbeddingMap>>();

function sample<T>(xs: T[], n: number, random: () => number): T[] {
  const a = xs.slice();
  for (let i = 0; i < Math.min(n, a.length); i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

export function getEmbeddingMap(
  db: Db,
  cacheDir: string,
  q: { runId: number; maxPoints: number },
): Promise<EmbeddingMap> {
  const key = `${q.runId}:${q.maxPoints}`;
  let m = computed.get(key);
  if (!m) {
    m = computeMap(db, cacheDir, q);
    computed.set(key, m);
    m.catch(() => computed.delete(key));
    if (computed.size > 8) computed.delete(computed.keys().next().value!);
  }
  return m;
}

/** A retrieval run whose embeddings are cached (with their width), or a clear error: what a map is made from. */
export function mappableRun(db: Db, cacheDir: string, runId: number): { run: EvalRun; dim: number } {
  const run = getEvalRun(db, runId);
  if (run.task !== 'retrieval')
    throw new ApiError('invalid_arguments', `Run ${run.id} is an NLVR2 run; the embedding map needs a retrieval run.`);
  const dim = cachedDim(cacheDir, run.modelVersion);
  if (!dim)
    throw new ApiError(
      'not_found',
      `No cached embeddings of model ${run.modelName} (${run.modelVersion}): run it again.`,
    );
  return { run, dim };
}

async function computeMap(db: Db, cacheDir: string, q: { runId: number; maxPoints: number }): Promise<EmbeddingMap> {
  const { run, dim } = mappableRun(db, cacheDir, q.runId);
  const root = datasetRoot(db, run.datasetId);
  const allImages = splitImages(db, run.datasetId, run.split);
  const allCaptions = splitCaptions(db, run.datasetId, run.split);
  const total = allImages.length + allCaptions.length;
  const random = rng(run.id);
  // images keep at least a quarter of the points: they are few beside their captions
  const nImages = Math.min(
    allImages.length,
    Math.max(Math.round(q.maxPoints / 4), Math.round((q.maxPoints * allImages.length) / total)),
  );
  const images = sample(allImages, nImages, random);
  const captions = sample(allCaptions, Math.min(allCaptions.length, q.maxPoints - images.length), random);
  const { imageKeys, textKeys } = await embeddingKeys(root, images, captions);
  const caches = openCaches(cacheDir, runCacheKeys(run), dim);
  const ranks = itemRanks(db, run.id);
  const splitOfImage = new Map(allImages.map((im) => [im.id, im.split]));
  const points: Omit<EmbeddingMap['points'][number], 'x' | 'y'>[] = [];
  const rows: Float32Array[] = [];
  images.forEach((im, i) => {
    const v = caches.images.get(imageKeys[i]);
    if (!v) return;
    rows.push(v);
    points.push({
      kind: 'image',
      key: im.source_id,
      text: im.file,
      split: im.split,
      rank: ranks.get(`image:${im.source_id}`) ?? null,
    });
  });
  captions.forEach((c, t) => {
    const v = caches.texts.get(textKeys[t]);
    if (!v) return;
    rows.push(v);
    const key = String(c.sentid);
    points.push({
      kind: 'caption',
      key,
      text: c.raw,
      split: splitOfImage.get(c.image_id) ?? '',
      rank: ranks.get(`caption:${key}`) ?? null,
    });
  });
  const data = new Float32Array(rows.length * dim);
  rows.forEach((v, i) => data.set(v, i * dim));
  const xy = await projectInWorker(data, rows.length, dim, { seed: run.id });
  return {
    runId: run.id,
    method: 'PCA-initialised t-SNE (perplexity 30) of the dual-encoder embeddings',
    total,
    points: points.map((p, i) => ({ ...p, x: xy[2 * i], y: xy[2 * i + 1] })),
  };
}
