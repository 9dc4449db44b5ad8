// Retrieval scoring with bounded memory: the same figures as scoreRetrieval (score.ts), bit for bit, with the
// captions' embeddings streamed in chunks and each chunk's results handed out as soon as they are final.
//
// Memory (I images, T captions, D dimensions, K the top-k, M captions per chunk, B the score budget in bytes):
//   held for the whole run: the image embeddings I·D·4, each image's running top-k I·K·8, per-image best own
//   caption and ranks I·28, per-caption ranks (and the caller's image indices) T·8;
//   per chunk: its caption embeddings M·D·4 (twice, with the ground-truth images), its running top lists M·K·8,
//   and one score tile of M × N images within B (N = floor(B / (4·M))), which ONNX Runtime holds with about
//   1.25·B more while it compares the tile with the ground truth (bytes, then int32 counts).
// In all: I·(4·D + 8·K + 28) + 8·T + 8·M·D + 8·M·K + 2.25·B bytes, beside the caller's. Nothing of size T·I or
// T·K is held: the caption queries' results go to `onCaptions` chunk by chunk.
//
// Per tile, one ONNX Runtime graph (score-graph.ts tileGraph: the same Gemm and TopK as score.ts) gives each
// caption's k best images of the block, each image's k best captions of the chunk, and per caption how many of
// the block's images score strictly above its ground truth. In JS, O((M + N)·k) per tile:
//   - each caption's running top-k images, merged across blocks with the lower index first on ties (as TopK
//     orders them); its image's rank is its place in that list, else the count of images strictly above, at
//     least k (exactly score.ts's pass 1 and pass 2). The ground-truth score comes from the same kernel (a Gemm
//     of the chunk against its own images' rows), so the counts compare like with like;
//   - each image's running top-k captions, merged across chunks with the earlier caption first on ties;
//   - each image's best own caption (by a float64 dot product, the first best) and that pair's Gemm score.
// After the last chunk, an image whose own captions all lie beyond its top-k is ranked by counting, in a second
// pass over the captions, how many score strictly above its best own caption (only those images' columns).
import * as ort from 'onnxruntime-node';
import { columnCountGraph, matmulGraph, tileGraph } from './score-graph';
import { mergeColumn, ownRanksInTop, recallMetrics, type RetrievalMetrics, scoreSessionOptions } from './score';

/**
 * One score tile is kept within this many bytes unless told otherwise (ONNX Runtime holds about twice that more
 * while it runs: the comparison with the ground truth, as bytes then as counts).
 */
export const DEFAULT_SCORE_BUDGET_BYTES = 64 * 1024 * 1024;
/**
 * Captions per chunk unless told otherwise: the tiles' fixed costs (TopK over the chunk for each image, the
 * merges) amortized; 1,024 × 16,384 tiles ran 1.4–1.6× faster than 256 × 16,384 here.
 */
export const DEFAULT_CHUNK_CAPTIONS = 1024;

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
  /** Bytes of one score tile (default 64 MiB). */
  budgetBytes?: number;
  /** Captions per chunk (default 1,024). */
  chunkCaptions?: number;
  /** Each chunk's caption results, in order; its arrays are reused after the call returns (copy what you keep). */
  onCaptions?: (chunk: CaptionChunk) => void | Promise<void>;
  signal?: AbortSignal;
  /** Captions done of all, in the scoring pass, then in the second pass when some image needs counting. */
  onProgress?: (done: number, total: number, pass: 'scoring' | 'counting') => void;
  session?: StreamSessions;
}

export interface StreamSessions {
  tile: ort.InferenceSession;
  matmul: ort.InferenceSession;
  columnCount: ort.InferenceSession;
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

export async function createStreamSessions(threads?: number): Promise<StreamSessions> {
  const opts = scoreSessionOptions(threads);
  return {
    tile: await ort.InferenceSession.create(tileGraph(), opts),
    matmul: await ort.InferenceSession.create(matmulGraph(), opts),
    columnCount: await ort.InferenceSession.create(columnCountGraph(), opts),
  };
}

const int64 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]);

/** Images per tile for a score tile of `captions` rows within `budgetBytes`. */
export function tileImages(captions: number, budgetBytes = DEFAULT_SCORE_BUDGET_BYTES): number {
  return Math.max(1, Math.floor(budgetBytes / (4 * Math.max(1, captions))));
}

export async function scoreRetrievalStream(input: StreamScoreInput): Promise<StreamScoreResult> {
  const { images, dim: D, textImage } = input;
  const I = images.length / D;
  const T = textImage.length;
  if (!Number.isInteger(I)) throw new Error('the image embeddings are not a multiple of the dimension');
  const K = Math.min(input.k ?? 10, I, T);
  const M0 = Math.max(1, Math.min(input.chunkCaptions ?? DEFAULT_CHUNK_CAPTIONS, T));
  const N0 = Math.min(I, tileImages(M0, input.budgetBytes));
  const sessions = input.session ?? (await createStreamSessions());
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
  const tmpScore = new Float32Array(K);
  const tmpIndex = new Int32Array(K);
  const axis1 = int64(1);
  const truthRows = new Float32Array(M0 * D);
  let beyond = 0;

  // ONNX Runtime computes a one-row product another way (a matrix-vector kernel, rounding differently): a lone
  // caption goes in twice, so every score comes from the same kernel whatever the chunk
  const rowsOf = (texts: Float32Array, M: number) => {
    if (texts.length !== M * D) throw new Error(`read ${texts.length / D} caption embeddings, expected ${M}`);
    return M === 1
      ? new ort.Tensor('float32', Float32Array.of(...texts, ...texts), [2, D])
      : new ort.Tensor('float32', texts, [M, D]);
  };
  const gemm = async (texts: Float32Array, M: number, keys: ort.Tensor) =>
    (await sessions.matmul.run({ texts: rowsOf(texts, M), images: keys })).scores;

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
    const textsT = rowsOf(texts, M);
    const truthT = new ort.Tensor(
      'float32',
      M === 1 ? Float32Array.of(truthScore[0], truthScore[0]) : truthScore.slice(0, M),
      [M === 1 ? 2 : M, 1],
    );
    const kCols = int64(Math.min(K, M));
    for (const { from, n, tensor } of blocks) {
      if (input.signal?.aborted) throw new Error('Cancelled');
      const kr = Math.min(K, n);
      const out = await sessions.tile.run({
        texts: textsT,
        images: tensor,
        k_rows: int64(kr),
        k_cols: kCols,
        truth: truthT,
        axis1,
      });
      const tv = out.text_topv.data as Float32Array;
      const ti = out.text_topi.data as BigInt64Array;
      const count = out.above_count.data as Int32Array;
      // each caption: the block's best images merged into its running top-k (an earlier block first on ties)
      for (let m = 0; m < M; m++) {
        above[m] += count[m];
        mergeColumn(cScore, cIndex, m * K, K, tv, ti, m * kr, 1, kr, from, tmpScore, tmpIndex);
      }
      // each image: the chunk's best captions merged into its running top-k (an earlier chunk first on ties)
      const iv = out.image_topv.data as Float32Array;
      const ii = out.image_topi.data as BigInt64Array;
      const kc = out.image_topv.dims[0] as number;
      if (M === 1) ii.fill(0n); // the lone caption, not its copy
      for (let j = 0; j < n; j++)
        mergeColumn(imgScore, imgIndex, (from + j) * K, K, iv, ii, j, n, kc, start, tmpScore, tmpIndex);
      for (const t of Object.values(out)) t.dispose?.();
    }
    for (let m = 0; m < M; m++) {
      const base = m * K;
      const truth = textImage[start + m];
      let p = -1;
      for (let j = 0; j < K; j++)
        if (cIndex[base + j] === truth) {
          p = j;
          break;
        }
      if (p < 0) beyond++;
      cRank[m] = p >= 0 ? p : Math.max(K, above[m]);
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
    input.onProgress?.(start + M, T, 'scoring');
  }

  const imageRank = ownRanksInTop(imgIndex, I, K, textImage);
  const lonely: number[] = [];
  let captionless = 0;
  for (let i = 0; i < I; i++) {
    if (imageRank[i] >= 0) continue;
    // an image without captions has no rank to speak of: it counts as missed
    if (bestCaption[i] < 0) [imageRank[i], captionless] = [T, captionless + 1];
    else lonely.push(i);
  }
  if (lonely.length) await countImages(input, sessions, lonely, bestTarget, imageRank, K, M0, N0);
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
  sessions: StreamSessions,
  lonely: number[],
  target: Float32Array,
  imageRank: Int32Array,
  K: number,
  M0: number,
  N0: number,
): Promise<void> {
  const { images, dim: D } = input;
  const T = input.textImage.length;
  const L = lonely.length;
  const counts = new Float64Array(L);
  const axis0 = int64(0);
  // those images' rows are gathered a block at a time (N0·D·4 bytes), not copied all at once
  const blocks: { from: number; n: number; limit: ort.Tensor }[] = [];
  for (let from = 0; from < L; from += N0) {
    const n = Math.min(N0, L - from);
    const limit = Float32Array.from({ length: n }, (_, j) => target[lonely[from + j]]);
    blocks.push({ from, n, limit: new ort.Tensor('float32', limit, [1, n]) });
  }
  const keys = new Float32Array(Math.min(N0, L) * D);
  for (let start = 0; start < T; start += M0) {
    if (input.signal?.aborted) throw new Error('Cancelled');
    const M = Math.min(M0, T - start);
    const texts = await input.readTexts(start, M);
    if (texts.length !== M * D) throw new Error(`read ${texts.length / D} caption embeddings, expected ${M}`);
    // a lone caption goes in twice (see rowsOf): each count is then doubled
    const textsT =
      M === 1
        ? new ort.Tensor('float32', Float32Array.of(...texts, ...texts), [2, D])
        : new ort.Tensor('float32', texts, [M, D]);
    for (const { from, n, limit } of blocks) {
      for (let j = 0; j < n; j++) keys.set(images.subarray(lonely[from + j] * D, (lonely[from + j] + 1) * D), j * D);
      const keysT = new ort.Tensor('float32', keys.subarray(0, n * D), [n, D]);
      const out = await sessions.columnCount.run({ texts: textsT, images: keysT, limit, axis0 });
      const c = out.count.data as Int32Array;
      for (let j = 0; j < n; j++) counts[from + j] += M === 1 ? c[j] / 2 : c[j];
      out.count.dispose?.();
    }
    input.onProgress?.(start + M, T, 'counting');
  }
  lonely.forEach((i, n) => (imageRank[i] = Math.max(K, counts[n])));
}
