// Child process of `npm run bench -- eval-memory`: one retrieval scoring of a synthetic split whose embeddings
// are already in the embedding cache (bench/eval-memory.ts writes them), the way the evaluation does it, with
// its rows written to a real SQLite file; prints one JSON line with its seconds and the process's peak RSS.
//   stream: the streamed evaluation (indexed caches, captions as typed arrays, scoreRetrievalStream, rows in
//           batches while the run is hidden), stopped after `limitSeconds` of scoring when that is set;
//   whole:  the whole-split path it replaced (every embedding loaded, scoreRetrieval, every row built in
//           memory, one transaction).
import path from 'node:path';
import { openDatabase } from '../electron/store/db';
import { EvalRunWriter, saveEvalRun } from '../electron/eval/repository';
import { captionMistakenness, imageMistakenness } from '../electron/eval/mistakes';
import type { ItemRow } from '../electron/eval/types';
import {
  EmbeddingCache,
  readEmbeddings,
  scoreRetrieval,
  scoreRetrievalStream,
  textKey,
} from '../model-runtime/src/index';
import { captionText, imageKey, type ChildConfig } from './eval-memory';

const K = 10;
const facts = (c: ChildConfig) => ({
  task: 'retrieval' as const,
  modelName: 'synthetic',
  modelDir: c.work,
  fingerprint: 'bench',
  datasetId: 1,
  split: 'test',
  options: { k: K },
  provider: 'cpu',
});

const top = (idx: Int32Array, sc: Float32Array, q: number, id: (j: number) => string | number) =>
  JSON.stringify(
    Array.from({ length: K }, (_, j) => [idx[q * K + j] >= 0 ? id(idx[q * K + j]) : null, +sc[q * K + j].toFixed(5)]),
  );

const rssMB = () => process.memoryUsage().rss / 2 ** 20;

/** The image embeddings, read from the indexed cache (its key index let go after). */
function loadImages(c: ChildConfig): Float32Array {
  const cache = EmbeddingCache.open(c.work, 'bench', 'images', c.dim, { indexed: true });
  return readEmbeddings(
    cache.file,
    c.dim,
    Float64Array.from({ length: c.images }, (_, i) => cache.offsetOf(imageKey(i))!),
  );
}

/** The captions as the evaluation holds them: typed arrays, each text hashed to find its embedding's offset. */
function indexCaptions(c: ChildConfig) {
  const { images: I, captions: T } = c;
  const cache = EmbeddingCache.open(c.work, 'bench', 'texts', c.dim, { indexed: true });
  const sentid = new Float64Array(T);
  const textImage = new Int32Array(T);
  const offset = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    sentid[t] = t;
    textImage[t] = t % I;
    const at = cache.offsetOf(textKey(captionText(t, I)));
    if (at === undefined) throw new Error(`caption ${t} is not in the cache`);
    offset[t] = at;
  }
  return { file: cache.file, sentid, textImage, offset, rssWithKeyIndex: rssMB() };
}

async function stream(c: ChildConfig, t0: number) {
  const { images: I, dim: D } = c;
  const rssStart = rssMB();
  const images = loadImages(c);
  const rssImages = rssMB();
  const { file, sentid, textImage, offset, rssWithKeyIndex } = indexCaptions(c);
  const textCache = { file };
  const setupSeconds = (performance.now() - t0) / 1000;

  const db = openDatabase(path.join(c.work, `stream-${I}.sqlite`));
  const writer = new EvalRunWriter(db, facts(c));
  let rows: ItemRow[] = [];
  const flush = () => {
    writer.add(rows);
    rows = [];
  };
  const ac = new AbortController();
  const s0 = performance.now();
  let scored = 0;
  let pass1Seconds = 0;
  const result = await scoreRetrievalStream({
    images,
    dim: D,
    textImage,
    k: K,
    signal: ac.signal,
    readTexts: (start, count) => readEmbeddings(textCache.file, D, offset.subarray(start, start + count)),
    onCaptions: (ch) => {
      const mist = captionMistakenness(
        ch.topIndex,
        ch.topScore,
        K,
        textImage.subarray(ch.start, ch.start + ch.count),
        ch.own,
      );
      for (let m = 0; m < ch.count; m++) {
        rows.push([
          'caption',
          String(sentid[ch.start + m]),
          ch.rank[m],
          ch.own[m],
          mist[m],
          top(ch.topIndex, ch.topScore, m, (i) => imageKey(i)),
        ]);
        if (rows.length >= 20_000) flush();
      }
      scored = ch.start + ch.count;
      pass1Seconds = (performance.now() - s0) / 1000;
      if (c.limitSeconds && pass1Seconds > c.limitSeconds) ac.abort();
    },
  }).catch((e: Error) => {
    if (e.message !== 'Cancelled') throw e;
    return null;
  });
  flush();
  if (result) {
    const imgMist = imageMistakenness(result.imageTopIndex, result.imageTopScore, K, textImage, result.ownBest);
    for (let i = 0; i < I; i++) {
      rows.push([
        'image',
        imageKey(i),
        result.imageRank[i],
        result.ownBest[i],
        imgMist[i],
        top(result.imageTopIndex, result.imageTopScore, i, (t) => sentid[t]),
      ]);
      if (rows.length >= 20_000) flush();
    }
    writer.finish(result.metrics, 0, rows);
  } else writer.abandon();
  db.close();
  return {
    setupSeconds,
    pass1Seconds,
    scoringSeconds: (performance.now() - s0) / 1000,
    captionsScored: scored,
    complete: result !== null,
    metrics: result?.metrics,
    counted: result?.counted,
    rssStartMB: Math.round(rssStart),
    rssAfterImagesMB: Math.round(rssImages),
    rssWithCaptionKeyIndexMB: Math.round(rssWithKeyIndex),
  };
}

async function whole(c: ChildConfig, t0: number) {
  const { images: I, captions: T, dim: D } = c;
  const imageCache = EmbeddingCache.open(c.work, 'bench', 'images', D);
  const textCache = EmbeddingCache.open(c.work, 'bench', 'texts', D);
  const images = new Float32Array(I * D);
  for (let i = 0; i < I; i++) images.set(imageCache.get(imageKey(i))!, i * D);
  const captions = Array.from({ length: T }, (_, t) => ({ sentid: t, raw: captionText(t, I), image: t % I }));
  const texts = new Float32Array(T * D);
  captions.forEach((cap, t) => texts.set(textCache.get(textKey(cap.raw))!, t * D));
  const textImage = Int32Array.from(captions, (cap) => cap.image);
  const setupSeconds = (performance.now() - t0) / 1000;
  const rssLoaded = rssMB();
  const s0 = performance.now();
  const ac = new AbortController();
  const timer = c.limitSeconds ? setTimeout(() => ac.abort(), c.limitSeconds * 1000) : undefined;
  const scored = await scoreRetrieval({ texts, images, dim: D, textImage, k: K, signal: ac.signal }).catch(
    (e: Error) => {
      if (e.message !== 'Cancelled') throw e;
      return null;
    },
  );
  clearTimeout(timer);
  // stopped: what it held before building its rows is its peak so far
  if (!scored)
    return {
      setupSeconds,
      scoringSeconds: (performance.now() - s0) / 1000,
      complete: false,
      rssLoadedMB: Math.round(rssLoaded),
    };
  const own = Float32Array.from(captions, (_, t) => {
    let s = 0;
    for (let j = 0; j < D; j++) s += texts[t * D + j] * images[textImage[t] * D + j];
    return s;
  });
  const ownBest = new Float32Array(I).fill(-Infinity);
  textImage.forEach((i, t) => (ownBest[i] = Math.max(ownBest[i], own[t])));
  const mist = captionMistakenness(scored.textTopIndex, scored.textTopScore, K, textImage, own);
  const imgMist = imageMistakenness(scored.imageTopIndex, scored.imageTopScore, K, textImage, ownBest);
  const items: ItemRow[] = captions.map((cap, t) => [
    'caption',
    String(cap.sentid),
    scored.textRank[t],
    own[t],
    mist[t],
    top(scored.textTopIndex, scored.textTopScore, t, imageKey),
  ]);
  for (let i = 0; i < I; i++)
    items.push([
      'image',
      imageKey(i),
      scored.imageRank[i],
      ownBest[i],
      imgMist[i],
      top(scored.imageTopIndex, scored.imageTopScore, i, (t) => captions[t].sentid),
    ]);
  const db = openDatabase(path.join(c.work, `whole-${I}.sqlite`));
  saveEvalRun(db, { ...facts(c), metrics: scored.metrics, seconds: 0, items });
  db.close();
  return {
    setupSeconds,
    scoringSeconds: (performance.now() - s0) / 1000,
    captionsScored: T,
    complete: true,
    metrics: scored.metrics,
    counted: scored.counted,
  };
}

const config = JSON.parse(process.argv[2]) as ChildConfig;
const t0 = performance.now();
const out = config.mode === 'stream' ? await stream(config, t0) : await whole(config, t0);
process.stdout.write(
  `${JSON.stringify({ ...out, seconds: (performance.now() - t0) / 1000, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
