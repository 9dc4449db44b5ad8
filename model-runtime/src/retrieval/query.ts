// Search: a few text (or image) query embeddings ranked against a whole split's image embeddings, and the
// top k re-ranked with ITM. Scores come from the very graph the evaluation scores with (score-graph.ts), so a
// caption searched here gets the evaluation's ranking and scores bit for bit: ONNX Runtime's Gemm computes
// each product the same way whatever the number of rows, except for a single row, which MLAS sends through
// a vector kernel that sums in another order; a lone query is therefore scored as two identical rows.
import * as ort from 'onnxruntime-node';
import { PreprocessPool } from '../image/pool';
import type { MomeModel } from '../model/model';
import type { WordPieceTokenizer } from '../tokenizer';
import { createScoreSession, type ScoreSessions } from './score';

export interface RankedImages {
  k: number;
  /** [Q, k] image indices, best first (ties: the lower index first, as the evaluation's TopK). */
  index: Int32Array;
  /** [Q, k] scores: dot products of the normalized embeddings. */
  score: Float32Array;
}

const int64 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]);

/** Ranks the images for each query; `imagesTensor` may be passed to reuse one tensor across calls. */
export async function rankImages(
  queries: Float32Array,
  images: Float32Array | ort.Tensor,
  dim: number,
  k: number,
  session?: ScoreSessions,
): Promise<RankedImages> {
  const Q = queries.length / dim;
  const imagesT =
    images instanceof Float32Array ? new ort.Tensor('float32', images, [images.length / dim, dim]) : images;
  const N = imagesT.dims[0] as number;
  if (!Number.isInteger(Q) || Q < 1) throw new Error('rankImages: the queries are not a multiple of the dimension');
  const K = Math.min(k, N);
  const rows = Math.max(Q, 2); // never one row: see the note at the top
  const texts = new Float32Array(rows * dim);
  texts.set(queries);
  if (Q === 1) texts.set(queries, dim);
  const sessions = session ?? (await createScoreSession());
  const out = await sessions.score.run({
    texts: new ort.Tensor('float32', texts, [rows, dim]),
    images: imagesT,
    k_rows: int64(K),
    k_cols: int64(1),
  });
  const tv = out.text_topv.data as Float32Array;
  const ti = out.text_topi.data as BigInt64Array;
  const index = Int32Array.from(ti.subarray(0, Q * K), Number);
  const score = Float32Array.from(tv.subarray(0, Q * K));
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
