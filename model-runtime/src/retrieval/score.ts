// Retrieval scoring to the official protocol (compute_irtr_recall): all captions × all images by dot product
// of normalized embeddings; IR R@k over captions (its image in the top k), TR R@k over images (any of its
// captions in the top k). The score matrix is computed in chunks of captions inside ONNX Runtime, so memory
// stays bounded by the chunk, not by captions × images.
// Pass 1 keeps each query's best k candidates (TopK is nearly free beside the products), which gives the
// top-k lists, the recall and every ground-truth rank below k. Pass 2 counts, for the queries whose ground
// truth lies further down, how many candidates score above it: products again, only for those queries
// (a good model leaves few of them; random embeddings leave nearly all, the worst case).
import * as ort from 'onnxruntime-node';
import { countGraph, scoreGraph } from './score-graph';

export interface ScoreSessions {
  score: ort.InferenceSession;
  count: ort.InferenceSession;
}

export interface ScoreInput {
  texts: Float32Array; // [T, D] row-major, L2-normalized
  images: Float32Array; // [I, D]
  dim: number;
  /** For each caption, the index of its image. */
  textImage: Int32Array;
  k?: number;
  /** Captions per chunk (default: about 8 million scores per chunk). */
  chunk?: number;
  /** Pass 1 keeps `reach` candidates per query (default k: a larger TopK costs more than it saves). */
  reach?: number;
  /** Count the exact rank of ground truth beyond `reach` (pass 2; default true). Off: such ranks read `reach`. */
  exactRanks?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  session?: ScoreSessions;
}

export interface RetrievalMetrics {
  tr_r1: number;
  tr_r5: number;
  tr_r10: number;
  ir_r1: number;
  ir_r5: number;
  ir_r10: number;
}

export interface ScoreResult {
  k: number;
  /** Per caption: 0-based rank of its image among all images. */
  textRank: Int32Array;
  /** Per caption: the top-k images and their scores. */
  textTopIndex: Int32Array;
  textTopScore: Float32Array;
  /** Per image: 0-based rank of its best caption among all captions. */
  imageRank: Int32Array;
  /** Per image: the top-k captions and their scores. */
  imageTopIndex: Int32Array;
  imageTopScore: Float32Array;
  /** Queries whose rank was counted in pass 2 (0 when every ground truth lay within reach). */
  counted: { captions: number; images: number };
  metrics: RetrievalMetrics;
}

const SCORES_PER_CHUNK = 8_000_000;

/** The options of every retrieval scoring session (this file's and the streamed scoring's): CPU, fully optimized. */
export function scoreSessionOptions(threads?: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    ...(threads ? { intraOpNumThreads: threads } : {}),
    graphOptimizationLevel: 'all',
  };
}

export async function createScoreSession(threads?: number): Promise<ScoreSessions> {
  const opts = scoreSessionOptions(threads);
  return {
    score: await ort.InferenceSession.create(scoreGraph(), opts),
    count: await ort.InferenceSession.create(countGraph(), opts),
  };
}

/**
 * Per image: the position of its first own caption (textImage[t] === image) in its top list of k captions,
 * -1 where none is there (the rank then has to be counted).
 */
export function ownRanksInTop(topIndex: Int32Array, images: number, k: number, textImage: Int32Array): Int32Array {
  const rank = new Int32Array(images).fill(-1);
  for (let i = 0; i < images; i++)
    for (let j = 0; j < k; j++) {
      const t = topIndex[i * k + j];
      if (t >= 0 && textImage[t] === i) {
        rank[i] = j;
        break;
      }
    }
  return rank;
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ai + j] * b[bi + j];
  return s;
}

const int64 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]);

/**
 * Merges a chunk's column of candidates (descending, strided in `vs`/`is`) into an image's kept list
 * (descending, `len` long at `base`), keeping the best `len`. Linear in both lengths.
 */
export function mergeColumn(
  keptScore: Float32Array,
  keptIndex: Int32Array,
  base: number,
  len: number,
  vs: Float32Array,
  is: BigInt64Array,
  col: number,
  stride: number,
  count: number,
  offset: number,
  tmpScore: Float32Array,
  tmpIndex: Int32Array,
): void {
  if (count === 0 || vs[col] <= keptScore[base + len - 1]) return; // nothing of this chunk enters
  let a = 0;
  let b = 0;
  for (let p = 0; p < len; p++) {
    const fromChunk = b < count && (a >= len || vs[b * stride + col] > keptScore[base + a]);
    if (fromChunk) {
      tmpScore[p] = vs[b * stride + col];
      tmpIndex[p] = offset + Number(is[b * stride + col]);
      b++;
    } else {
      tmpScore[p] = keptScore[base + a];
      tmpIndex[p] = keptIndex[base + a];
      a++;
    }
  }
  keptScore.set(tmpScore.subarray(0, len), base);
  keptIndex.set(tmpIndex.subarray(0, len), base);
}

export async function scoreRetrieval(input: ScoreInput): Promise<ScoreResult> {
  const { texts, images, dim: D, textImage } = input;
  const T = texts.length / D;
  const I = images.length / D;
  if (!Number.isInteger(T) || !Number.isInteger(I))
    throw new Error('embedding buffers are not a multiple of the dimension');
  if (textImage.length !== T) throw new Error(`textImage has ${textImage.length} entries for ${T} captions`);
  const K = Math.min(input.k ?? 10, I, T);
  const reach = Math.max(K, input.reach ?? K);
  const KR = Math.min(reach, I); // candidates kept per caption
  const KC = Math.min(reach, T); // candidates kept per image
  const chunk = input.chunk ?? Math.max(64, Math.floor(SCORES_PER_CHUNK / I));
  const sessions = input.session ?? (await createScoreSession());

  const textRank = new Int32Array(T).fill(-1);
  const textTopIndex = new Int32Array(T * K);
  const textTopScore = new Float32Array(T * K);
  const imgTopScore = new Float32Array(I * KC).fill(-Infinity);
  const imgTopIndex = new Int32Array(I * KC).fill(-1);
  const imagesT = new ort.Tensor('float32', images, [I, D]);
  const kRows = int64(KR);
  const tmpScore = new Float32Array(KC);
  const tmpIndex = new Int32Array(KC);

  for (let start = 0; start < T; start += chunk) {
    if (input.signal?.aborted) throw new Error('Cancelled');
    const M = Math.min(chunk, T - start);
    const out = await sessions.score.run({
      texts: new ort.Tensor('float32', texts.subarray(start * D, (start + M) * D), [M, D]),
      images: imagesT,
      k_rows: kRows,
      k_cols: int64(Math.min(KC, M)),
    });
    const tv = out.text_topv.data as Float32Array;
    const ti = out.text_topi.data as BigInt64Array;
    for (let m = 0; m < M; m++) {
      const t = start + m;
      for (let j = 0; j < KR; j++) {
        const i = Number(ti[m * KR + j]);
        if (j < K) {
          textTopIndex[t * K + j] = i;
          textTopScore[t * K + j] = tv[m * KR + j];
        }
        if (i === textImage[t] && textRank[t] < 0) textRank[t] = j;
      }
    }
    const iv = out.image_topv.data as Float32Array;
    const ii = out.image_topi.data as BigInt64Array;
    const kc = out.image_topv.dims[0] as number;
    for (let i = 0; i < I; i++)
      mergeColumn(imgTopScore, imgTopIndex, i * KC, KC, iv, ii, i, I, kc, start, tmpScore, tmpIndex);
    for (const t of Object.values(out)) t.dispose?.();
    input.onProgress?.(start + M, T);
  }

  const imageRank = ownRanksInTop(imgTopIndex, I, KC, textImage);
  const counted = await countBeyondReach(input, sessions, { T, I, D, KR, KC, textRank, imageRank });
  const imageTopIndex = new Int32Array(I * K);
  const imageTopScore = new Float32Array(I * K);
  for (let i = 0; i < I; i++) {
    imageTopIndex.set(imgTopIndex.subarray(i * KC, i * KC + K), i * K);
    imageTopScore.set(imgTopScore.subarray(i * KC, i * KC + K), i * K);
  }
  return {
    k: K,
    textRank,
    textTopIndex,
    textTopScore,
    imageRank,
    imageTopIndex,
    imageTopScore,
    counted,
    metrics: recallMetrics(textRank, imageRank),
  };
}

/**
 * Pass 2: the ranks pass 1 could not see (-1), counted exactly, or set to the reach when exact ranks are
 * not asked for (then they read "at least reach").
 */
async function countBeyondReach(
  input: ScoreInput,
  sessions: ScoreSessions,
  s: { T: number; I: number; D: number; KR: number; KC: number; textRank: Int32Array; imageRank: Int32Array },
): Promise<ScoreResult['counted']> {
  const { texts, images, textImage } = input;
  const { T, I, D } = s;
  const captions = [...s.textRank.keys()].filter((t) => s.textRank[t] < 0);
  const lonely = [...s.imageRank.keys()].filter((i) => s.imageRank[i] < 0);
  if (input.exactRanks === false) {
    for (const t of captions) s.textRank[t] = s.KR;
    for (const i of lonely) s.imageRank[i] = s.KC;
    return { captions: 0, images: 0 };
  }
  const captionCounts = await countAbove(sessions.count, texts, images, D, captions, (t) => textImage[t], input);
  captions.forEach((t, n) => (s.textRank[t] = Math.max(s.KR, captionCounts[n])));
  if (lonely.length) {
    // an image's rank: captions above its best own caption
    const bestScore = new Float64Array(I).fill(-Infinity);
    const bestCaption = new Int32Array(I).fill(-1);
    for (let t = 0; t < T; t++) {
      const i = textImage[t];
      const own = dot(texts, t * D, images, i * D, D);
      if (own > bestScore[i]) [bestScore[i], bestCaption[i]] = [own, t];
    }
    const withCaptions = lonely.filter((i) => bestCaption[i] >= 0);
    const imageCounts = await countAbove(sessions.count, images, texts, D, withCaptions, (i) => bestCaption[i], input);
    withCaptions.forEach((i, n) => (s.imageRank[i] = Math.max(s.KC, imageCounts[n])));
    // an image without captions has no rank to speak of: it counts as missed
    for (const i of lonely) if (bestCaption[i] < 0) s.imageRank[i] = T;
  }
  return { captions: captions.length, images: lonely.length };
}

/** For the given query rows: how many keys score strictly above the row's target key. */
async function countAbove(
  session: ort.InferenceSession,
  queries: Float32Array,
  keys: Float32Array,
  D: number,
  rows: number[],
  target: (row: number) => number,
  input: ScoreInput,
): Promise<Int32Array> {
  const N = keys.length / D;
  const out = new Int32Array(rows.length);
  const chunk = Math.max(16, Math.floor(SCORES_PER_CHUNK / N));
  const keysT = new ort.Tensor('float32', keys, [N, D]);
  const axis1 = int64(1);
  for (let s = 0; s < rows.length; s += chunk) {
    if (input.signal?.aborted) throw new Error('Cancelled');
    const part = rows.slice(s, s + chunk);
    const q = new Float32Array(part.length * D);
    part.forEach((r, m) => q.set(queries.subarray(r * D, (r + 1) * D), m * D));
    const r = await session.run({
      queries: new ort.Tensor('float32', q, [part.length, D]),
      keys: keysT,
      target: new ort.Tensor(
        'int64',
        BigInt64Array.from(part, (r) => BigInt(target(r))),
        [part.length, 1],
      ),
      axis1,
    });
    out.set(r.count.data as Int32Array, s);
    r.count.dispose?.();
  }
  return out;
}

/** TR R@k over images (best own caption's rank), IR R@k over captions (own image's rank), in percent. */
export function recallMetrics(textRank: Int32Array, imageRank: Int32Array): RetrievalMetrics {
  const recall = (ranks: Int32Array, k: number) => {
    let hits = 0;
    for (const r of ranks) if (r < k) hits++;
    return (100 * hits) / ranks.length;
  };
  return {
    tr_r1: recall(imageRank, 1),
    tr_r5: recall(imageRank, 5),
    tr_r10: recall(imageRank, 10),
    ir_r1: recall(textRank, 1),
    ir_r5: recall(textRank, 5),
    ir_r10: recall(textRank, 10),
  };
}
