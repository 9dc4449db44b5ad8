// Retrieval scoring with bounded memory: the same figures as scoreRetrieval (score.ts), bit for bit, with the
// captions' embeddings streamed in chunks and each chunk's results handed out as soon as they are final.
//
// Held for the whole run (I images, T captions, D dimensions, K the top-k):
//   images I·D·4 bytes, each image's running top-k I·K·8, per-image ranks and best own caption I·28,
//   per-caption ground-truth ranks and image indices T·8,
// and per chunk: a score matrix and its caption embeddings within `budgetBytes` each (M = floor(budget / (4·max(I, D)))
// captions, at least one). Nothing of size T·I or T·K is ever held: the caption queries' top lists go to
// `onCaptions` chunk by chunk.
//
// Per chunk, one Gemm (the same ONNX Runtime product as score.ts) gives the chunk's M×I scores, and in JS:
//   - each caption's top-k images, ties in index order (what ONNX Runtime's TopK gives), and the rank of its
//     image by counts: p = (images scoring above it) + (images scoring the same with a lower index) is its
//     position in the sorted list; beyond k the rank is the count of images strictly above, at least k
//     (exactly score.ts's pass 1 and pass 2);
//   - each image's running top-k captions, merged across chunks with the earlier caption first on ties;
//   - each image's best own caption (by a float64 dot product, the first best) and that pair's Gemm score.
// After the last chunk, an image whose own captions all lie beyond its top-k is ranked by counting, in a second
// pass over the captions, how many score strictly above its best own caption (only those images' columns).
import * as ort from 'onnxruntime-node';
import { matmulGraph } from './score-graph';
import { recallMetrics, type RetrievalMetrics } from './score';

/** The score matrix of one chunk is kept within this many bytes unless told otherwise. */
export const DEFAULT_SCORE_BUDGET_BYTES = 64 * 1024 * 1024;

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
  /** Bytes of one chunk's score matrix (default 64 MiB). */
  budgetBytes?: number;
  /** Each chunk's caption results, in order; its arrays are reused after the call returns (copy what you keep). */
  onCaptions?: (chunk: CaptionChunk) => void | Promise<void>;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  session?: ort.InferenceSession;
}

export interface StreamScoreResult {
  k: number;
  /** Captions per chunk. */
  chunk: number;
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

/** Captions per chunk for a score matrix within `budgetBytes` against I images. */
export function chunkCaptions(images: number, dim: number, budgetBytes = DEFAULT_SCORE_BUDGET_BYTES): number {
  return Math.max(1, Math.floor(budgetBytes / (4 * Math.max(1, images, dim))));
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
  const M0 = chunkCaptions(I, D, input.budgetBytes);
  const session = input.session ?? (await createMatmulSession());
  const imagesT = new ort.Tensor('float32', images, [I, D]);

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
    const out = await gemm(texts, M, imagesT);
    const S = out.data as Float32Array;
    for (let m = 0; m < M; m++) {
      const t = start + m;
      const row = m * I;
      const truth = textImage[t];
      // own score: as the evaluation computes it (a float64 dot, kept as float32), and the image's best caption
      let own = 0;
      for (let j = 0; j < D; j++) own += texts[m * D + j] * images[truth * D + j];
      cOwn[m] = own;
      if (cOwn[m] > ownBest[truth]) ownBest[truth] = cOwn[m];
      if (own > bestOwn[truth]) {
        bestOwn[truth] = own;
        bestCaption[truth] = t;
        bestTarget[truth] = S[row + truth];
      }
      // top-k images (ties in index order) and the rank of its image by counts
      const base = m * K;
      cScore.fill(-Infinity, base, base + K);
      cIndex.fill(-1, base, base + K);
      const ts = S[row + truth];
      let above = 0;
      let same = 0;
      let floor = -Infinity;
      for (let i = 0; i < I; i++) {
        const s = S[row + i];
        if (s > ts) above++;
        else if (s === ts && i < truth) same++;
        if (s > floor || cIndex[base + K - 1] < 0) {
          insert(cScore, cIndex, base, K, s, i);
          floor = cScore[base + K - 1];
        }
      }
      const p = above + same;
      const r = p < K ? p : Math.max(K, above);
      if (p >= K) beyond++;
      cRank[m] = r;
      textRank[t] = r;
    }
    // each image's running top-k captions: this chunk's rows in order, so an earlier caption stays first on ties
    for (let m = 0; m < M; m++) {
      const t = start + m;
      const row = m * I;
      for (let i = 0; i < I; i++) {
        const s = S[row + i];
        const b = i * K;
        if (s > imgScore[b + K - 1] || imgIndex[b + K - 1] < 0) insert(imgScore, imgIndex, b, K, s, t);
      }
    }
    out.dispose?.();
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
  if (lonely.length) await countImages(input, lonely, bestTarget, imageRank, K, gemm);
  return {
    k: K,
    chunk: M0,
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
  gemm: (texts: Float32Array, M: number, keys: ort.Tensor) => Promise<ort.Tensor>,
): Promise<void> {
  const { images, dim: D } = input;
  const T = input.textImage.length;
  const L = lonely.length;
  const keys = new Float32Array(L * D);
  lonely.forEach((i, n) => keys.set(images.subarray(i * D, (i + 1) * D), n * D));
  const keysT = new ort.Tensor('float32', keys, [L, D]);
  const counts = new Int32Array(L);
  const thr = Float32Array.from(lonely, (i) => target[i]);
  const M0 = chunkCaptions(L, D, input.budgetBytes);
  for (let start = 0; start < T; start += M0) {
    if (input.signal?.aborted) throw new Error('Cancelled');
    const M = Math.min(M0, T - start);
    const out = await gemm(await input.readTexts(start, M), M, keysT);
    const S = out.data as Float32Array;
    for (let m = 0; m < M; m++) for (let n = 0; n < L; n++) if (S[m * L + n] > thr[n]) counts[n]++;
    out.dispose?.();
  }
  lonely.forEach((i, n) => (imageRank[i] = Math.max(K, counts[n])));
}
