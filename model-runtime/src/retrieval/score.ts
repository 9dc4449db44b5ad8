// Retrieval scoring to the official protocol (compute_irtr_recall): all captions × all images by dot product
// of normalized embeddings; IR R@k over captions (its image in the top k), TR R@k over images (any of its
// captions in the top k). The score matrix is computed in chunks of captions inside ONNX Runtime, so memory
// stays bounded by the chunk, not by captions × images.
import * as ort from 'onnxruntime-node';
import { scoreGraph } from './score-graph';

export interface ScoreInput {
  texts: Float32Array; // [T, D] row-major, L2-normalized
  images: Float32Array; // [I, D]
  dim: number;
  /** For each caption, the index of its image. */
  textImage: Int32Array;
  k?: number;
  chunk?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  session?: ort.InferenceSession;
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
  /** Per image: 0-based rank of its best caption among all captions (exact below k, counted above). */
  imageRank: Int32Array;
  /** Per image: the top-k captions and their scores. */
  imageTopIndex: Int32Array;
  imageTopScore: Float32Array;
  metrics: RetrievalMetrics;
}

export async function createScoreSession(threads?: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(scoreGraph(), {
    executionProviders: ['cpu'],
    ...(threads ? { intraOpNumThreads: threads } : {}),
    graphOptimizationLevel: 'all',
  });
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ai + j] * b[bi + j];
  return s;
}

export async function scoreRetrieval(input: ScoreInput): Promise<ScoreResult> {
  const { texts, images, dim: D, textImage } = input;
  const T = texts.length / D;
  const I = images.length / D;
  if (!Number.isInteger(T) || !Number.isInteger(I))
    throw new Error('embedding buffers are not a multiple of the dimension');
  if (textImage.length !== T) throw new Error(`textImage has ${textImage.length} entries for ${T} captions`);
  const K = Math.min(input.k ?? 10, I, T);
  const chunk = input.chunk ?? 1024;
  const session = input.session ?? (await createScoreSession());

  // Each image's best own caption score, for counting captions above it (only used for ranks ≥ k).
  const imageBest = new Float32Array(I).fill(-Infinity);
  for (let t = 0; t < T; t++) {
    const i = textImage[t];
    const s = dot(texts, t * D, images, i * D, D);
    if (s > imageBest[i]) imageBest[i] = s;
  }
  const imagesT = new ort.Tensor('float32', images, [I, D]);
  const kT = new ort.Tensor('int64', BigInt64Array.from([BigInt(K)]), [1]);
  const axis0 = new ort.Tensor('int64', BigInt64Array.from([0n]), [1]);
  const axis1 = new ort.Tensor('int64', BigInt64Array.from([1n]), [1]);
  // a small margin: the count must not include the image's own best caption through rounding
  const bestT = new ort.Tensor(
    'float32',
    imageBest.map((v) => v + 1e-5),
    [1, I],
  );

  const textRank = new Int32Array(T);
  const textTopIndex = new Int32Array(T * K);
  const textTopScore = new Float32Array(T * K);
  const imageCount = new Int32Array(I);
  // running top-k captions per image, merged chunk by chunk
  const imgTopScore = new Float32Array(I * K).fill(-Infinity);
  const imgTopIndex = new Int32Array(I * K).fill(-1);

  for (let start = 0; start < T; start += chunk) {
    if (input.signal?.aborted) throw new Error('Cancelled');
    const M = Math.min(chunk, T - start);
    const gt = new BigInt64Array(M);
    for (let m = 0; m < M; m++) gt[m] = BigInt(textImage[start + m]);
    const out = await session.run({
      texts: new ort.Tensor('float32', texts.subarray(start * D, (start + M) * D), [M, D]),
      images: imagesT,
      k: kT,
      k_rows: new ort.Tensor('int64', BigInt64Array.from([BigInt(Math.min(K, M))]), [1]),
      gt_image: new ort.Tensor('int64', gt, [M, 1]),
      image_best: bestT,
      axis0,
      axis1,
    });
    const tv = out.text_topv.data as Float32Array;
    const ti = out.text_topi.data as BigInt64Array;
    const kk = out.text_topv.dims[1] as number;
    for (let m = 0; m < M; m++) {
      for (let j = 0; j < K; j++) {
        textTopScore[(start + m) * K + j] = tv[m * kk + j];
        textTopIndex[(start + m) * K + j] = Number(ti[m * kk + j]);
      }
    }
    textRank.set(out.text_rank.data as Int32Array, start);
    const counts = out.image_count.data as Int32Array;
    for (let i = 0; i < I; i++) imageCount[i] += counts[i];
    const iv = out.image_topv.data as Float32Array;
    const ii = out.image_topi.data as BigInt64Array;
    const kr = out.image_topv.dims[0] as number;
    for (let i = 0; i < I; i++) {
      for (let j = 0; j < kr; j++) {
        const s = iv[j * I + i];
        const base = i * K;
        if (s <= imgTopScore[base + K - 1]) break; // columns come sorted: nothing further enters
        let p = K - 1;
        while (p > 0 && imgTopScore[base + p - 1] < s) {
          imgTopScore[base + p] = imgTopScore[base + p - 1];
          imgTopIndex[base + p] = imgTopIndex[base + p - 1];
          p--;
        }
        imgTopScore[base + p] = s;
        imgTopIndex[base + p] = start + Number(ii[j * I + i]);
      }
    }
    for (const t of Object.values(out)) t.dispose?.();
    input.onProgress?.(start + M, T);
  }

  const imageRank = new Int32Array(I);
  for (let i = 0; i < I; i++) {
    let r = -1;
    for (let j = 0; j < K; j++) {
      if (textImage[imgTopIndex[i * K + j]] === i) {
        r = j;
        break;
      }
    }
    imageRank[i] = r >= 0 ? r : Math.max(K, imageCount[i]);
  }
  return {
    k: K,
    textRank,
    textTopIndex,
    textTopScore,
    imageRank,
    imageTopIndex: imgTopIndex,
    imageTopScore: imgTopScore,
    metrics: recallMetrics(textRank, imageRank),
  };
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
