// Retrieval scoring with bounded memory: the same figures as scoreRetrieval (score.ts), bit for bit, with the
// captions' embeddings streamed in chunks and each chunk's results handed out as soon as they are final.
//
// Memory (I images, T captions, D dimensions, K the top-k, M captions per chunk, B the score budget in bytes):
//   held for the whole run: the image embeddings I·D·4, each image's running top-k I·K·8, per-image best own
//   caption and ranks I·28, per-caption ranks (and the caller's image indices) T·8;
//   per chunk: its caption embeddings M·D·4 (twice, with the ground-truth images), its running top lists M·K·8,
//   and one score tile of M × N images within B (N = floor(B / (4·M))).
// Nothing of size T·I or T·K is held: the caption queries' results go to `onCaptions` chunk by chunk.
//
// Per tile, one Gemm (the same ONNX Runtime product as score.ts) gives M×N scores, and in JS:
//   - each caption's running top-k images, ties in index order (what ONNX Runtime's TopK gives), and the rank of
//     its image by counts: p = (images scoring above it) + (images scoring the same with a lower index) is its
//     position in the sorted list; beyond k its rank is the count of images strictly above, at least k (exactly
//     score.ts's pass 1 and pass 2). The ground-truth score comes from the same kernel (a Gemm of the chunk
//     against its own images' rows), so the counts compare like with like;
//   - each image's running top-k captions, merged across chunks with the earlier caption first on ties;
//   - each image's best own caption (by a float64 dot product, the first best) and that pair's Gemm score.
// After the last chunk, an image whose own captions all lie beyond its top-k is ranked by counting, in a second
// pass over the captions, how many score strictly above its best own caption (only those images' columns).
import * as ort from 'onnxruntime-node';
import { matmulGraph } from './score-graph';
import { recallMetrics, type RetrievalMetrics } from './score';

/** One score tile is kept within this many bytes unless told otherwise (its JS pass takes some 20 ms). */
export const DEFAULT_SCORE_BUDGET_BYTES = 16 * 1024 * 1024;
/** Captions per chunk unless told otherwise: enough rows for the product to run at full speed. */
export const DEFAULT_CHUNK_CAPTIONS = 256;

export interface CaptionChunk {
  /** The chunk's first caption and how many it holds. */
  start: number;
  count: number;
  k: number;
  /** Per caption of the chunk: 0-based rank of its image, top-k images and scores, own score (float32 of the dot). */
  rank: Int32Array;
  topIndex: Int32Array;
  topScore: Float32Array;
  own: Float32Array;
}

export interface StreamScoreInput {
  images: Float32Array; // [I, D], L2-normalized
  dim: number;
  /** For each caption, the index of its image. */
  textImage: Int32Array;
  /** The embeddings of captions [start, start + count), row-major (read twice when some image needs counting). */
  readTexts: (start: number, count: number) => Float32Array | Promise<Float32Array>;
  k?: number;
  /** Bytes of one score tile (default 16 MiB). */
  budgetBytes?: number;
  /** Captions per chunk (default 256). */
  chunkCaptions?: number;
  /** Each chunk's caption results, in order; its arrays are reused after the call returns (copy what you keep). */
  onCaptions?: (chunk: CaptionChunk) => void | Promise<void>;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  session?: ort.InferenceSession;
}

export interface StreamScoreResult {
  k: number;
  /** Captions per chunk and images per tile. */
  chunk: number;
  block: number;
  /** Per caption: 0-based rank of its image among all images. */
  textRank: Int32Array;
  /** Per image: 0-based rank of its best caption among all captions. */
  imageRank: Int32Array;
  /** Per image: the top-k captions and their scores (index -1 and -Infinity where there are fewer). */
  imageTopIndex: Int32Array;
  imageTopScore: Float32Array;
  /** Per image: the best float32 own score of its captions (-Infinity without captions). */
  ownBest: Float32Array;
  /** Queries whose rank was counted beyond the top k (as score.ts reports them). */
  counted: { captions: number; images: number };
  metrics: RetrievalMetrics;
}

export async function createMatmulSession(threads?: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(matmulGraph(), {
    executionProviders: ['cpu'],
    ...(threads ? { intraOpNumThreads: threads } : {}),
    graphOptimizationLevel: 'all',
  });
}

/** Images per tile for a score tile of `captions` rows within `budgetBytes`. */
export function tileImages(captions: number, budgetBytes = DEFAULT_SCORE_BUDGET_BYTES): number {
  return Math.max(1, Math.floor(budgetBytes / (4 * Math.max(1, captions))));
}

/** Inserts (score, index) into a descending list of `len` at `base`, after every entry scoring the same. */
function insert(sc: Float32Array, ix: Int32Array, base: number, len: number, s: number, idx: number): void {
  let p = base + len - 1;
  while (p > base && sc[p - 1] < s) {
    sc[p] = sc[p - 1];
    ix[p] = ix[p - 1];
    p--;
  }
  sc[p] = s;
  ix[p] = idx;
}

export async function scoreRetrievalStream(input: StreamScoreInput): Promise<StreamScoreResult> {
  const { images, dim: D, textImage } = input;
  const I = images.length / D;
  const T = textImage.length;
  if (!Number.isInteger(I)) throw new Error('the image embeddings are not a multiple of the dimension');
  const K = Math.min(input.k ?? 10, I, T);
  const M0 = Math.max(1, Math.min(input.chunkCaptions ?? DEFAULT_CHUNK_CAPTIONS, T));
  const N0 = Math.min(I, tileImages(M0, input.budgetBytes));
  const session = input.session ?? (await createMatmulSession());
  const blocks = Array.from({ length: Math.ceil(I / N0) }, (_, b) => {
    const n = Math.min(N0, I - b * N0);
    return {
      from: b * N0,
      n,
      tensor: new ort.Tensor('float32', images.subarray(b * N0 * D, (b * N0 + n) * D), [n, D]),
    };
  });

  const textRank = new Int32Array(T);
  const imgScore = new Float32Array(I * K).fill(-Infinity);
  const imgIndex = new Int32Array(I * K).fill(-1);
  const bestOwn = new Float64Array(I).fill(-Infinity);
  const bestCaption = new Int32Array(I).fill(-1);
  const bestTarget = new Float32Array(I); // the Gemm score of (best own caption, image)
  const ownBest = new Float32Array(I).fill(-Infinity);
  const cRank = new Int32Array(M0);
  const cIndex = new Int32Array(M0 * K);
  const cScore = new Float32Array(M0 * K);
  const cOwn = new Float32Array(M0);
  const truthScore = new Float32Array(M0);
  const above = new Int32Array(M0);
  const same = new Int32Array(M0);
  const truthRows = new Float32Array(M0 * D);
  let beyond = 0;

  const gemm = async (texts: Float32Array, M: number, keys: ort.Tensor) => {
    if (texts.length !== M * D) throw new Error(`read ${texts.length / D} caption embeddings, expected ${M}`);
    // ONNX Runtime computes a one-row product another way (a matrix-vector kernel, rounding differently): a lone
    // caption goes in twice, so every score comes from the same kernel whatever the chunk
    const rows = M === 1 ? 2 : M;
    const q = M === 1 ? Float32Array.of(...texts, ...texts) : texts;
    const out = await session.run({ texts: new ort.Tensor('float32', q, [rows, D]), images: keys });
    return out.scores;
  };

  for (let start = 0; start < T; start += M0) {
    if (input.signal?.aborted) throw new Error('Cancelled');
    const M = Math.min(M0, T - start);
    const texts = await input.readTexts(start, M);
    // the ground truth's scores, from the same kernel as the tiles: the chunk against its own images' rows
    for (let m = 0; m < M; m++)
      truthRows.set(images.subarray(textImage[start + m] * D, (textImage[start + m] + 1) * D), m * D);
    const own = await gemm(texts, M, new ort.Tensor('float32', truthRows.subarray(0, M * D), [M, D]));
    const G = own.data as Float32Array;
    for (let m = 0; m < M; m++) {
      const t = start + m;
      const truth = textImage[t];
      truthScore[m] = G[m * M + m];
      // own score: as the evaluation computes it (a float64 dot, kept as float32), and the image's best caption
      let dot = 0;
      for (let j = 0; j < D; j++) dot += texts[m * D + j] * images[truth * D + j];
      cOwn[m] = dot;
      if (cOwn[m] > ownBest[truth]) ownBest[truth] = cOwn[m];
      if (dot > bestOwn[truth]) {
        bestOwn[truth] = dot;
        bestCaption[truth] = t;
        bestTarget[truth] = truthScore[m];
      }
    }
    own.dispose?.();
    cScore.fill(-Infinity);
    cIndex.fill(-1);
    above.fill(0);
    same.fill(0);
    for (const block of blocks) {
      if (input.signal?.aborted) throw new Error('Cancelled');
      const out = await gemm(texts, M, block.tensor);
      const S = out.data as Float32Array;
      const { from, n } = block;
      // each caption: its running top-k images (ties in index order) and the counts that give its image's rank
      for (let m = 0; m < M; m++) {
        const row = m * n;
        const base = m * K;
        const truth = textImage[start + m];
        const ts = truthScore[m];
        let a = 0;
        let e = 0;
        let floor = cIndex[base + K - 1] < 0 ? -Infinity : cScore[base + K - 1];
        let full = cIndex[base + K - 1] >= 0;
        for (let j = 0; j < n; j++) {
          const s = S[row + j];
          if (s > ts) a++;
          else if (s === ts && from + j < truth) e++;
          if (s > floor || !full) {
            insert(cScore, cIndex, base, K, s, from + j);
            floor = cScore[base + K - 1];
            full = cIndex[base + K - 1] >= 0;
          }
        }
        above[m] += a;
        same[m] += e;
      }
      // each image's running top-k captions: rows in caption order, so an earlier caption stays first on ties
      for (let m = 0; m < M; m++) {
        const t = start + m;
        const row = m * n;
        for (let j = 0; j < n; j++) {
          const s = S[row + j];
          const b = (from + j) * K;
          if (s > imgScore[b + K - 1] || imgIndex[b + K - 1] < 0) insert(imgScore, imgIndex, b, K, s, t);
        }
      }
      out.dispose?.();
    }
    for (let m = 0; m < M; m++) {
      const p = above[m] + same[m];
      if (p >= K) beyond++;
      cRank[m] = p < K ? p : Math.max(K, above[m]);
      textRank[start + m] = cRank[m];
    }
    if (input.onCaptions)
      await input.onCaptions({
        start,
        count: M,
        k: K,
        rank: cRank.subarray(0, M),
        topIndex: cIndex.subarray(0, M * K),
        topScore: cScore.subarray(0, M * K),
        own: cOwn.subarray(0, M),
      });
    input.onProgress?.(start + M, T);
  }

  const imageRank = new Int32Array(I).fill(-1);
  for (let i = 0; i < I; i++)
    for (let j = 0; j < K; j++) {
      const t = imgIndex[i * K + j];
      if (t >= 0 && textImage[t] === i) {
        imageRank[i] = j;
        break;
      }
    }
  const lonely: number[] = [];
  let captionless = 0;
  for (let i = 0; i < I; i++) {
    if (imageRank[i] >= 0) continue;
    // an image without captions has no rank to speak of: it counts as missed
    if (bestCaption[i] < 0) [imageRank[i], captionless] = [T, captionless + 1];
    else lonely.push(i);
  }
  if (lonely.length) await countImages(input, lonely, bestTarget, imageRank, K, M0, N0, gemm);
  return {
    k: K,
    chunk: M0,
    block: N0,
    textRank,
    imageRank,
    imageTopIndex: imgIndex,
    imageTopScore: imgScore,
    ownBest,
    counted: { captions: beyond, images: lonely.length + captionless },
    metrics: recallMetrics(textRank, imageRank),
  };
}

/** For images whose own captions lie beyond their top-k: the captions scoring strictly above the best own one. */
async function countImages(
  input: StreamScoreInput,
  lonely: number[],
  target: Float32Array,
  imageRank: Int32Array,
  K: number,
  M0: number,
  N0: number,
  gemm: (texts: Float32Array, M: number, keys: ort.Tensor) => Promise<ort.Tensor>,
): Promise<void> {
  const { images, dim: D } = input;
  const T = input.textImage.length;
  const L = lonely.length;
  const counts = new Int32Array(L);
  const thr = Float32Array.from(lonely, (i) => target[i]);
  const blocks: { from: number; n: number; tensor: ort.Tensor }[] = [];
  for (let from = 0; from < L; from += N0) {
    const n = Math.min(N0, L - from);
    const keys = new Float32Array(n * D);
    for (let j = 0; j < n; j++) keys.set(images.subarray(lonely[from + j] * D, (lonely[from + j] + 1) * D), j * D);
    blocks.push({ from, n, tensor: new ort.Tensor('float32', keys, [n, D]) });
  }
  for (let start = 0; start < T; start += M0) {
    if (input.signal?.aborted) throw new Error('Cancelled');
    const M = Math.min(M0, T - start);
    const texts = await input.readTexts(start, M);
    for (const { from, n, tensor } of blocks) {
      const out = await gemm(texts, M, tensor);
      const S = out.data as Float32Array;
      for (let m = 0; m < M; m++) for (let j = 0; j < n; j++) if (S[m * n + j] > thr[from + j]) counts[from + j]++;
      out.dispose?.();
    }
  }
  lonely.forEach((i, n) => (imageRank[i] = Math.max(K, counts[n])));
}
