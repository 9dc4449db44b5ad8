// Search: a few text (or image) query embeddings ranked against a whole split's image embeddings, and the
// top k re-ranked with ITM. The scores are the evaluation's bit for bit (score-graph.ts: Gemm of caption rows
// by image rows), computed the other way round: images × queries, so that the operand ONNX Runtime's Gemm
// packs on every call is the few queries, not the 123K images (which made a query ~4x slower). MLAS sums each
// product over the dimension in the same order either way; only a single row takes a vector kernel that sums
// in another order, so a lone image is scored as two identical rows. The integration test holds the
// equality against a real evaluation.
import * as ort from 'onnxruntime-node';
import { PreprocessPool } from '../image/pool';
import type { MomeModel } from '../model/model';
import type { WordPieceTokenizer } from '../tokenizer';
import { ElemType, model as onnxModel, node, tensorInfo } from '../onnx/proto-writer';

export interface RankedImages {
  k: number;
  /** [Q, k] image indices, best first (ties: the lower index first, as the evaluation's TopK). */
  index: Int32Array;
  /** [Q, k] scores: dot products of the normalized embeddings. */
  score: Float32Array;
}

const int64 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]);

/** images [N, D] × queries [Q, D]ᵀ → for each query (column) its top k images: values and indices [k, Q]. */
export function queryGraph(): Uint8Array {
  const { FLOAT, INT64 } = ElemType;
  return onnxModel(
    'mome_search_scores',
    [
      node('Gemm', ['images', 'queries'], ['scores'], [{ name: 'transB', int: 1 }]),
      node('TopK', ['scores', 'k'], ['topv', 'topi'], [{ name: 'axis', int: 0 }]),
    ],
    [tensorInfo('images', FLOAT, ['N', 'D']), tensorInfo('queries', FLOAT, ['Q', 'D']), tensorInfo('k', INT64, [1])],
    [tensorInfo('topv', FLOAT, ['K', 'Q']), tensorInfo('topi', INT64, ['K', 'Q'])],
  );
}

let shared: Promise<ort.InferenceSession> | null = null;
export function querySession(): Promise<ort.InferenceSession> {
  shared ??= ort.InferenceSession.create(queryGraph(), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  return shared;
}

/** The image embeddings as the tensor rankImages reads (made once per index): never a single row. */
export function imagesTensor(images: Float32Array, dim: number): ort.Tensor {
  const n = images.length / dim;
  if (n !== 1) return new ort.Tensor('float32', images, [n, dim]);
  const two = new Float32Array(2 * dim);
  two.set(images);
  two.set(images, dim);
  return new ort.Tensor('float32', two, [2, dim]);
}

/** Ranks the images for each query; pass imagesTensor's tensor to reuse it across calls. */
export async function rankImages(
  queries: Float32Array,
  images: Float32Array | ort.Tensor,
  dim: number,
  k: number,
  session?: ort.InferenceSession,
): Promise<RankedImages> {
  const Q = queries.length / dim;
  if (!Number.isInteger(Q) || Q < 1) throw new Error('rankImages: the queries are not a multiple of the dimension');
  const imagesT = images instanceof Float32Array ? imagesTensor(images, dim) : images;
  const N = images instanceof Float32Array ? images.length / dim : (imagesT.dims[0] as number);
  const K = Math.min(k, N);
  const out = await (session ?? (await querySession())).run({
    images: imagesT,
    queries: new ort.Tensor('float32', queries, [Q, dim]),
    k: int64(K),
  });
  const tv = out.topv.data as Float32Array;
  const ti = out.topi.data as BigInt64Array;
  const index = new Int32Array(Q * K);
  const score = new Float32Array(Q * K);
  for (let q = 0; q < Q; q++)
    for (let j = 0; j < K; j++) {
      index[q * K + j] = Number(ti[j * Q + q]);
      score[q * K + j] = tv[j * Q + q];
    }
  for (const t of Object.values(out)) t.dispose?.();
  return { k: K, index, score };
}

/** How a query fares with the model's text length: its WordPiece count and whether it is cut. */
export function queryLength(tokenizer: WordPieceTokenizer, text: string, maxTextLen: number) {
  const tokens = tokenizer.tokenizeIds(text).length + 2; // [CLS] … [SEP]
  return { tokens, maxTokens: maxTextLen, truncated: tokens > maxTextLen };
}

/**
 * p(match) from the fusion encoder's ITM head for one text against each of the given images, computed as the
 * evaluation's re-rank computes it (the same tokenization, pixels and sigmoid of the logit difference).
 */
export async function itmProbabilities(
  model: MomeModel,
  text: string,
  images: (string | Buffer)[],
  batchSize = 32,
  signal?: AbortSignal,
): Promise<Float64Array> {
  // doubles, as the evaluation sorts by them before storing float32 scores
  const probs = new Float64Array(images.length);
  if (images.length === 0) return probs;
  const S = model.config.imageSize;
  const pool = new PreprocessPool();
  const cfg = { imageSize: S, mean: model.config.mean, std: model.config.std };
  try {
    for (let s = 0; s < images.length; s += batchSize) {
      if (signal?.aborted) throw new Error('Cancelled');
      const m = Math.min(batchSize, images.length - s);
      const px = new Float32Array(m * 3 * S * S);
      const pixels = await Promise.all(images.slice(s, s + m).map((im) => pool.run(im, cfg)));
      pixels.forEach((p, b) => px.set(p, b * 3 * S * S));
      const enc = model.tokenizer.encodeBatch(Array<string>(m).fill(text), {
        maxLen: model.config.maxTextLen,
        pad: 'max_length',
      });
      const out = await model.runGraph('fusion', {
        pixel_values: new ort.Tensor('float32', px, [m, 3, S, S]),
        input_ids: new ort.Tensor('int64', enc.inputIds, enc.shape),
        attention_mask: new ort.Tensor('int64', enc.attentionMask, enc.shape),
      });
      const logits = out.itm_logits.data as Float32Array;
      for (let b = 0; b < m; b++) probs[s + b] = 1 / (1 + Math.exp(logits[2 * b] - logits[2 * b + 1]));
    }
  } finally {
    await pool.close();
  }
  return probs;
}

/** The order of candidates by p(match), highest first; equal probabilities keep the dual encoder's order. */
export function itmOrder(probs: Float64Array): number[] {
  return [...probs.keys()].sort((a, b) => probs[b] - probs[a]);
}
