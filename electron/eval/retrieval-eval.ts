// Retrieval evaluation of one split (or all splits): embed (cached), score every caption × image to the
// official protocol, optionally re-rank the top k with ITM, and write the per-query rows as they are final.
// Memory stays bounded at a million images and five million captions: the captions are held as typed arrays
// (sentid, image index, where the embedding lies in the cache file) read from the database in pages, their
// texts only while embedding the ones the cache lacks; their embeddings are read from the cache chunk by chunk
// while scoring (score-stream.ts), and each chunk's caption rows go to the database before the next is read.
// The images' embeddings are held (I·D·4 bytes). A re-rank holds every caption's top k (T·K·8 bytes) and texts.
import sharp from 'sharp';
import { ApiError } from '../api/contract';
import type { Db } from '../store/db';
import type { JobContext } from '../jobs/service';
import {
  EmbeddingCache,
  type MomeModel,
  readEmbeddings,
  scoreRetrievalStream,
  type RetrievalMetrics,
  type ScoreResult,
  rerankWithItm,
  textKey,
} from '../../model-runtime/src/index';
import {
  importedCaptionCount,
  importedCaptionPage,
  importedCaptions,
  imageSourceIds,
  splitImages,
} from '../datasets/items';
import { corrected, readCorrections } from './corrections';
import type { CacheKeys } from '../models/model-folder';
import { embedSplit, type Embedded, type SplitCaption, type SplitImage } from './embed';
import { captionMistakenness, imageMistakenness, rankMistakes } from './mistakes';
import { type EvalOptions, type EvalResult, type ItemRow, type Mistake } from './types';

/**
 * The rule that places an imported caption as the user's corrections have it: its text edited, moved to another
 * image, or removed; null where it is removed or its image is in another split.
 */
function captionPlacer(db: Db, datasetId: number, split: string): (c: SplitCaption) => SplitCaption | null {
  const fix = readCorrections(db, datasetId);
  const inSplit = new Map(splitImages(db, datasetId, split).map((im) => [im.source_id, im.id]));
  const sourceOf = imageSourceIds(db, datasetId);
  return (c) => {
    const key = String(c.sentid);
    if (corrected<unknown>(fix, 'caption', key, 'removed', false) === true) return null;
    const image = inSplit.get(String(corrected(fix, 'caption', key, 'image', sourceOf.get(c.image_id))));
    if (image === undefined) return null; // its image is in another split
    return { sentid: c.sentid, raw: String(corrected(fix, 'caption', key, 'raw', c.raw)), image_id: image };
  };
}

/** The split's captions with the user's corrections: edited text, moved to another image, removed. */
export function splitCaptions(db: Db, datasetId: number, split: string): SplitCaption[] {
  const place = captionPlacer(db, datasetId, split);
  const out: SplitCaption[] = [];
  for (const c of importedCaptions(db, datasetId)) {
    const p = place(c);
    if (p) out.push(p);
  }
  return out;
}

/** Imported captions read per page: a page's texts are let go before the next is read. */
const CAPTION_PAGE = 8192;

/**
 * splitCaptions in pages: each placed caption (in the same order) to `each`, with its index among the split's
 * captions; `between` runs after each page (nothing of the database is held across it).
 */
async function forEachSplitCaption(
  db: Db,
  datasetId: number,
  split: string,
  each: (c: SplitCaption, n: number) => void,
  between: () => Promise<void> = async () => undefined,
): Promise<number> {
  const place = captionPlacer(db, datasetId, split);
  let n = 0;
  for (let after = -1; ;) {
    const page = importedCaptionPage(db, datasetId, after, CAPTION_PAGE);
    for (const c of page) {
      const p = place(c);
      if (p) each(p, n++);
    }
    await between();
    if (page.length < CAPTION_PAGE) return n;
    after = page[page.length - 1].id;
  }
}

/** A split's captions as typed arrays, and where each one's embedding lies in the text cache file. */
interface CaptionIndex {
  count: number;
  sentid: Float64Array;
  /** Index of its image in the split's images. */
  image: Int32Array;
  /** Byte offset of its embedding in `file`. */
  offset: Float64Array;
  file: string;
  hits: number;
}

/**
 * Reads the split's captions page by page, looks each text up in the (indexed) text cache and encodes the ones
 * it lacks in batches of 2048 in caption order (as embedSplit does), appending them to the cache.
 */
async function indexCaptions(
  db: Db,
  model: MomeModel,
  keys: CacheKeys,
  o: EvalOptions,
  images: SplitImage[],
  ctx: JobContext,
  [from, to]: [number, number],
): Promise<CaptionIndex> {
  const E = model.config.embedDim;
  const upTo = importedCaptionCount(db, o.datasetId);
  const sentid = new Float64Array(upTo);
  const image = new Int32Array(upTo);
  const offset = new Float64Array(upTo);
  const imageIndex = new Map(images.map((im, i) => [im.id, i]));
  const cache = EmbeddingCache.open(o.cacheDir, keys.texts, 'texts', E, { indexed: true });
  let pending: { n: number; raw: string; key: string }[] = [];
  let misses = 0;
  let encoded = 0;
  let seen = 0;
  const encode = async (all: boolean) => {
    while (pending.length >= 2048 || (all && pending.length)) {
      ctx.throwIfCancelled();
      const part = pending.slice(0, 2048);
      pending = pending.slice(part.length);
      const emb = await model.encodeTexts(
        part.map((p) => p.raw),
        { signal: ctx.signal },
      );
      cache.put(part.map((p, j) => [p.key, emb.subarray(j * E, (j + 1) * E)]));
      for (const p of part) offset[p.n] = cache.offsetOf(p.key)!;
      encoded += part.length;
      ctx.progress(from + ((to - from) * seen) / Math.max(1, upTo), `Encoding captions: ${encoded} of ${misses}`);
    }
  };
  const count = await forEachSplitCaption(
    db,
    o.datasetId,
    o.split,
    (c, n) => {
      sentid[n] = c.sentid;
      image[n] = imageIndex.get(c.image_id)!;
      const key = textKey(c.raw);
      const at = cache.offsetOf(key);
      if (at !== undefined) offset[n] = at;
      else {
        misses++;
        pending.push({ n, raw: c.raw, key });
      }
    },
    async () => {
      seen += CAPTION_PAGE;
      await encode(false);
      ctx.progress(from + ((to - from) * Math.min(seen, upTo)) / Math.max(1, upTo), 'Reading captions');
    },
  );
  await encode(true);
  return {
    count,
    sentid: sentid.subarray(0, count),
    image: image.subarray(0, count),
    offset: offset.subarray(0, count),
    file: cache.file,
    hits: count - misses,
  };
}

export interface RetrievalOutcome {
  metrics: RetrievalMetrics & Record<string, number>;
  mistakes: Mistake[];
  counts: Record<string, number>;
  cache: { imageHits: number; textHits: number };
  unreadable: EvalResult['unreadable'];
}

/**
 * Rows go to the database in batches of this many, each its own transaction: 50–160 ms of the event loop per
 * thousand rows here on two busy cores (the rows' three indexes, a commit that syncs).
 */
const ROW_BATCH = 1_000;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Scores the split and hands its per-query rows to `write` in batches (captions in order as their chunks are
 * scored, then images); returns the metrics and the likely label errors.
 */
export async function evaluateRetrieval(
  db: Db,
  model: MomeModel,
  keys: CacheKeys,
  root: string,
  o: EvalOptions,
  ctx: JobContext,
  write: (rows: ItemRow[]) => void,
  rowBatch = ROW_BATCH,
): Promise<RetrievalOutcome> {
  const images = splitImages(db, o.datasetId, o.split);
  if (images.length === 0)
    throw new ApiError('invalid_arguments', `Dataset ${o.datasetId} has no images in split "${o.split}".`);
  const E = model.config.embedDim;
  const rerank = o.rerankK ?? 0;
  const upTo = rerank ? 0.5 : 0.85;
  const emb = await embedSplit(model, keys, root, images, [], o.cacheDir, ctx, [0.02, 0.02 + (upTo - 0.02) * 0.7]);
  const captions = await indexCaptions(db, model, keys, o, images, ctx, [0.02 + (upTo - 0.02) * 0.7, upTo]);
  const T = captions.count;
  const textImage = captions.image;

  ctx.progress(upTo, 'Scoring every caption against every image');
  const k = Math.max(o.k ?? 10, rerank);
  const rows = new RowBuffer(write, rowBatch);
  const mist = new Float32Array(T);
  // a re-rank needs every caption's top list (and own score) at once
  const kept = rerank ? { own: new Float32Array(T), index: new Int32Array(0), score: new Float32Array(0) } : null;
  const sourceId = (i: number) => images[i].source_id;
  const scored = await scoreRetrievalStream({
    images: emb.images,
    dim: E,
    textImage,
    k,
    signal: ctx.signal,
    readTexts: (start, count) => readEmbeddings(captions.file, E, captions.offset.subarray(start, start + count)),
    onCaptions: (c) => {
      const m = captionMistakenness(c.topIndex, c.topScore, c.k, textImage.subarray(c.start, c.start + c.count), c.own);
      mist.set(m, c.start);
      if (kept) {
        if (kept.index.length === 0) [kept.index, kept.score] = [new Int32Array(T * c.k), new Float32Array(T * c.k)];
        kept.own.set(c.own, c.start);
        kept.index.set(c.topIndex, c.start * c.k);
        kept.score.set(c.topScore, c.start * c.k);
        return;
      }
      for (let m2 = 0; m2 < c.count; m2++)
        rows.push([
          'caption',
          String(captions.sentid[c.start + m2]),
          c.rank[m2],
          c.own[m2],
          m[m2],
          topJson(c.topIndex, c.topScore, c.k, m2, sourceId),
        ]);
    },
    // the scoring pass, then (for images whose captions all lie beyond their top k) a counting pass
    onProgress: (done, total, pass) => {
      const [a, b] = [upTo, rerank ? 0.55 : 0.98];
      const mid = a + (b - a) * 0.7;
      if (pass === 'scoring') ctx.progress(a + (mid - a) * (done / total), `Scoring captions: ${done} of ${total}`);
      else ctx.progress(mid + (b - mid) * (done / total), `Ranking images beyond the top ${k}: ${done} of ${total}`);
    },
  });
  const imgMist = imageMistakenness(scored.imageTopIndex, scored.imageTopScore, scored.k, textImage, scored.ownBest);
  const full: ScoreResult | null = kept && {
    k: scored.k,
    textRank: scored.textRank,
    textTopIndex: kept.index,
    textTopScore: kept.score,
    imageRank: scored.imageRank,
    imageTopIndex: scored.imageTopIndex,
    imageTopScore: scored.imageTopScore,
    counted: scored.counted,
    metrics: scored.metrics,
  };
  const re = full ? await rerankTop(db, model, emb, o, textImage, full, rerank, ctx) : null;
  if (re && kept)
    for (let t = 0; t < T; t++) {
      rows.push([
        'caption',
        String(captions.sentid[t]),
        re.textRank[t],
        kept.own[t],
        mist[t],
        topJson(re.textTopIndex, re.textTopScore, re.k, t, sourceId),
      ]);
      if (t % rowBatch === rowBatch - 1) await yieldToLoop();
    }
  const view = re ?? scored;
  const sentidOf = (t: number) => captions.sentid[t];
  for (let i = 0; i < images.length; i++) {
    rows.push([
      'image',
      images[i].source_id,
      view.imageRank[i],
      Number.isFinite(scored.ownBest[i]) ? scored.ownBest[i] : null,
      imgMist[i],
      topJson(view.imageTopIndex, view.imageTopScore, view.k, i, sentidOf),
    ]);
    if (i % rowBatch === rowBatch - 1) await yieldToLoop(); // a million images' rows: other calls get a turn
  }
  rows.flush();
  // with a re-rank, the dual encoder's figures stay beside the re-ranked ones
  const metrics = re ? { ...re.metrics, ...prefixed('itc_', scored.metrics) } : { ...scored.metrics };
  return {
    metrics,
    counts: {
      images: images.length,
      captions: T,
      unreadableImages: emb.unreadable.size,
      ...(re ? { rerankedPairs: re.pairs } : {}),
    },
    cache: { imageHits: emb.imageHits, textHits: captions.hits },
    unreadable: [...emb.unreadable].slice(0, 100).map(([i, reason]) => ({ item: images[i].source_id, reason })),
    mistakes: topMistakes(mist, 1000).map((t) => ({
      kind: 'caption' as const,
      id: String(captions.sentid[t]),
      score: mist[t],
    })),
  };
}

/** Rows handed out in batches. */
class RowBuffer {
  private rows: ItemRow[] = [];
  constructor(
    private readonly write: (rows: ItemRow[]) => void,
    private readonly batch: number,
  ) {}
  push(row: ItemRow): void {
    this.rows.push(row);
    if (this.rows.length >= this.batch) this.flush();
  }
  flush(): void {
    if (this.rows.length) this.write(this.rows);
    this.rows = [];
  }
}

/** A query's top-k list as stored: [[id, score to 5 places], ...], null where there are fewer candidates. */
function topJson(
  idx: Int32Array,
  sc: Float32Array,
  K: number,
  q: number,
  id: (j: number) => string | number | null,
): string {
  return JSON.stringify(
    Array.from({ length: K }, (_, j) => [idx[q * K + j] >= 0 ? id(idx[q * K + j]) : null, +sc[q * K + j].toFixed(5)]),
  );
}

/** The `n` most likely errors, most likely first, ties in caption order (what rankMistakes gives, cut at n). */
export function topMistakes(scores: Float32Array, n: number): number[] {
  if (scores.length <= n) return rankMistakes(scores);
  const sorted = Float32Array.from(scores).sort();
  const floor = sorted[scores.length - n];
  const near: number[] = [];
  scores.forEach((s, t) => void (s >= floor && near.push(t)));
  return near.sort((a, b) => scores[b] - scores[a]).slice(0, n);
}

/** A mid-grey image: what the fusion encoder sees of an unreadable image (it normalizes to about 0). */
let blank: Promise<Buffer> | null = null;
const blankImage = () =>
  (blank ??= sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .png()
    .toBuffer());

async function rerankTop(
  db: Db,
  model: MomeModel,
  emb: Embedded,
  o: EvalOptions,
  textImage: Int32Array,
  scored: ScoreResult,
  k: number,
  ctx: JobContext,
) {
  const texts: string[] = [];
  await forEachSplitCaption(db, o.datasetId, o.split, (c) => void texts.push(c.raw));
  return rerankWithItm({
    model,
    // the real paths the embedding checked (inside the dataset folder); unreadable images as blank ones, as
    // their embeddings are zeros, so one bad image does not stop the run
    images: await Promise.all(emb.real.map(async (f, i) => (emb.unreadable.has(i) ? blankImage() : f))),
    texts,
    textImage,
    scored,
    k,
    signal: ctx.signal,
    onProgress: (d, n) => ctx.progress(0.55 + (0.35 * d) / n, `Re-ranking with ITM: ${d} of ${n} pairs`),
  });
}

function prefixed(prefix: string, m: RetrievalMetrics): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([key, v]) => [`${prefix}${key}`, v]));
}
