// Retrieval evaluation of one split (or all splits): embed (cached), score every caption × image to the
// official protocol, optionally re-rank the top k with ITM, and build the per-query rows.
import sharp from 'sharp';
import { ApiError } from '../api/contract';
import type { Db } from '../store/db';
import type { JobContext } from '../jobs/service';
import {
  type MomeModel,
  scoreRetrieval,
  type RetrievalMetrics,
  type ScoreResult,
  rerankWithItm,
} from '../../model-runtime/src/index';
import { importedCaptions, imageSourceIds, splitImages } from '../datasets/items';
import { corrected, readCorrections } from './corrections';
import type { CacheKeys } from '../models/model-folder';
import { embedSplit, type Embedded, type SplitCaption, type SplitImage } from './embed';
import { captionMistakenness, imageMistakenness, rankMistakes } from './mistakes';
import { type EvalOptions, type EvalResult, type ItemRow, type Mistake } from './types';

/** The split's captions with the user's corrections: edited text, moved to another image, removed. */
export function splitCaptions(db: Db, datasetId: number, split: string): SplitCaption[] {
  const rows = importedCaptions(db, datasetId);
  const fix = readCorrections(db, datasetId);
  const inSplit = new Map(splitImages(db, datasetId, split).map((im) => [im.source_id, im.id]));
  const sourceOf = imageSourceIds(db, datasetId);
  const out: SplitCaption[] = [];
  for (const c of rows) {
    const key = String(c.sentid);
    if (corrected<unknown>(fix, 'caption', key, 'removed', false) === true) continue;
    const image = inSplit.get(String(corrected(fix, 'caption', key, 'image', sourceOf.get(c.image_id))));
    if (image === undefined) continue; // its image is in another split
    out.push({ sentid: c.sentid, raw: String(corrected(fix, 'caption', key, 'raw', c.raw)), image_id: image });
  }
  return out;
}

export interface RetrievalOutcome {
  metrics: RetrievalMetrics & Record<string, number>;
  items: ItemRow[];
  mistakes: Mistake[];
  counts: Record<string, number>;
  cache: { imageHits: number; textHits: number };
  unreadable: EvalResult['unreadable'];
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ai + j] * b[bi + j];
  return s;
}

export async function evaluateRetrieval(
  db: Db,
  model: MomeModel,
  keys: CacheKeys,
  root: string,
  o: EvalOptions,
  ctx: JobContext,
): Promise<RetrievalOutcome> {
  const images = splitImages(db, o.datasetId, o.split);
  if (images.length === 0)
    throw new ApiError('invalid_arguments', `Dataset ${o.datasetId} has no images in split "${o.split}".`);
  const captions = splitCaptions(db, o.datasetId, o.split);
  const E = model.config.embedDim;
  const rerank = o.rerankK ?? 0;
  const emb = await embedSplit(model, keys, root, images, captions, o.cacheDir, ctx, [0.02, rerank ? 0.5 : 0.85]);

  ctx.progress(rerank ? 0.5 : 0.85, 'Scoring every caption against every image');
  const index = new Map(images.map((im, i) => [im.id, i]));
  const textImage = Int32Array.from(captions, (c) => index.get(c.image_id)!);
  const k = Math.max(o.k ?? 10, rerank);
  const scored = await scoreRetrieval({
    texts: emb.texts,
    images: emb.images,
    dim: E,
    textImage,
    k,
    signal: ctx.signal,
  });
  const own = Float32Array.from(captions, (_, t) => dot(emb.texts, t * E, emb.images, textImage[t] * E, E));
  const ownBest = new Float32Array(images.length).fill(-Infinity);
  textImage.forEach((i, t) => (ownBest[i] = Math.max(ownBest[i], own[t])));
  const mist = captionMistakenness(scored.textTopIndex, scored.textTopScore, scored.k, textImage, own);
  const imgMist = imageMistakenness(scored.imageTopIndex, scored.imageTopScore, scored.k, textImage, ownBest);

  const re = rerank ? await rerankTop(model, emb, captions, textImage, scored, rerank, ctx) : null;
  // with a re-rank, the dual encoder's figures stay beside the re-ranked ones
  const metrics = re ? { ...re.metrics, ...prefixed('itc_', scored.metrics) } : { ...scored.metrics };
  const items = itemRows(images, captions, re ?? scored, own, ownBest, mist, imgMist);
  return {
    metrics,
    items,
    counts: {
      images: images.length,
      captions: captions.length,
      unreadableImages: emb.unreadable.size,
      ...(re ? { rerankedPairs: re.pairs } : {}),
    },
    cache: { imageHits: emb.imageHits, textHits: emb.textHits },
    unreadable: [...emb.unreadable].slice(0, 100).map(([i, reason]) => ({ item: images[i].source_id, reason })),
    mistakes: rankMistakes(mist)
      .slice(0, 1000)
      .map((t) => ({ kind: 'caption' as const, id: String(captions[t].sentid), score: mist[t] })),
  };
}

type Ranked = Pick<ScoreResult, 'k' | 'textRank' | 'imageRank' | 'textTopIndex' | 'textTopScore'> &
  Pick<ScoreResult, 'imageTopIndex' | 'imageTopScore'>;

/** A mid-grey image: what the fusion encoder sees of an unreadable image (it normalizes to about 0). */
let blank: Promise<Buffer> | null = null;
const blankImage = () =>
  (blank ??= sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .png()
    .toBuffer());

async function rerankTop(
  model: MomeModel,
  emb: Embedded,
  captions: SplitCaption[],
  textImage: Int32Array,
  scored: ScoreResult,
  k: number,
  ctx: JobContext,
) {
  return rerankWithItm({
    model,
    // the real paths the embedding checked (inside the dataset folder); unreadable images as blank ones, as
    // their embeddings are zeros, so one bad image does not stop the run
    images: await Promise.all(emb.real.map(async (f, i) => (emb.unreadable.has(i) ? blankImage() : f))),
    texts: captions.map((c) => c.raw),
    textImage,
    scored,
    k,
    signal: ctx.signal,
    onProgress: (d, n) => ctx.progress(0.55 + (0.35 * d) / n, `Re-ranking with ITM: ${d} of ${n} pairs`),
  });
}

/** The rows stored per query: rank, own score, mistakenness and the top-k list as JSON. */
function itemRows(
  images: SplitImage[],
  captions: SplitCaption[],
  view: Ranked,
  own: Float32Array,
  ownBest: Float32Array,
  mist: Float32Array,
  imgMist: Float32Array,
): ItemRow[] {
  const K = view.k;
  const top = (idx: Int32Array, sc: Float32Array, q: number, id: (j: number) => string | number | null) =>
    JSON.stringify(
      Array.from({ length: K }, (_, j) => [idx[q * K + j] >= 0 ? id(idx[q * K + j]) : null, +sc[q * K + j].toFixed(5)]),
    );
  const items: ItemRow[] = captions.map((c, t) => [
    'caption',
    String(c.sentid),
    view.textRank[t],
    own[t],
    mist[t],
    top(view.textTopIndex, view.textTopScore, t, (i) => images[i].source_id),
  ]);
  images.forEach((im, i) =>
    items.push([
      'image',
      im.source_id,
      view.imageRank[i],
      Number.isFinite(ownBest[i]) ? ownBest[i] : null,
      imgMist[i],
      top(view.imageTopIndex, view.imageTopScore, i, (t) => captions[t].sentid),
    ]),
  );
  return items;
}

function prefixed(prefix: string, m: RetrievalMetrics): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([key, v]) => [`${prefix}${key}`, v]));
}
