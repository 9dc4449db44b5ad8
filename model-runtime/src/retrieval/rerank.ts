// The re-rank variant of the retrieval protocol: the top-k candidates of every query (images of a caption,
// captions of an image) are scored again by the fusion encoder's ITM head and re-ordered by p(match).
// Ground truth outside the top k keeps its dual-encoder rank (the re-rank cannot reach it).
// Pairs are grouped by image, so each image is decoded once however many captions it is paired with.
import * as ort from 'onnxruntime-node';
import { PreprocessPool } from '../image/pool';
import type { MomeModel } from '../model/model';
import { recallMetrics, type RetrievalMetrics, type ScoreResult } from './score';

export interface RerankInput {
  model: MomeModel;
  /** Image files (or encoded bytes) by image index, and caption texts by caption index. */
  images: (string | Buffer)[];
  texts: string[];
  textImage: Int32Array;
  scored: ScoreResult;
  k: number;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface RerankResult {
  k: number;
  pairs: number;
  textRank: Int32Array;
  imageRank: Int32Array;
  /** Per caption / image: the re-ranked top-k (indices) with their ITM probabilities. */
  textTopIndex: Int32Array;
  textTopScore: Float32Array;
  imageTopIndex: Int32Array;
  imageTopScore: Float32Array;
  metrics: RetrievalMetrics;
}

/** Every (image, caption) pair among the candidates, sorted by image: [image, caption] flattened. */
function candidatePairs(scored: ScoreResult, k: number, T: number, I: number): Int32Array {
  const seen = new Set<number>();
  const K = scored.k;
  for (let t = 0; t < T; t++) for (let j = 0; j < k; j++) seen.add(scored.textTopIndex[t * K + j] * T + t);
  for (let i = 0; i < I; i++)
    for (let j = 0; j < k; j++) {
      const t = scored.imageTopIndex[i * K + j];
      if (t >= 0) seen.add(i * T + t);
    }
  const keys = Float64Array.from(seen).sort();
  const out = new Int32Array(keys.length * 2);
  keys.forEach((key, p) => {
    out[2 * p] = Math.floor(key / T);
    out[2 * p + 1] = key % T;
  });
  return out;
}

/**
 * Pixels of each image in the order the (image-sorted) pairs need them: a few images ahead are decoded
 * while the current batch runs, and an image is dropped once passed (it never returns).
 */
function pixelSource(
  pool: PreprocessPool,
  images: (string | Buffer)[],
  pairs: Int32Array,
  cfg: { imageSize: number; mean: [number, number, number]; std: [number, number, number] },
  ahead = 4,
): (image: number) => Promise<Float32Array> {
  const order: number[] = [];
  for (let p = 0; p < pairs.length; p += 2) if (order.at(-1) !== pairs[p]) order.push(pairs[p]);
  const position = new Map(order.map((img, j) => [img, j]));
  const pending = new Map<number, Promise<Float32Array>>();
  return (image) => {
    const at = position.get(image)!;
    for (const [img] of pending) if (position.get(img)! < at) pending.delete(img);
    for (let j = at; j <= Math.min(order.length - 1, at + ahead); j++)
      if (!pending.has(order[j])) pending.set(order[j], pool.run(images[order[j]], cfg));
    return pending.get(image)!;
  };
}

async function scorePairs(input: RerankInput, pairs: Int32Array, T: number): Promise<Map<number, number>> {
  const { model } = input;
  const cfg = { imageSize: model.config.imageSize, mean: model.config.mean, std: model.config.std };
  const S = cfg.imageSize;
  const n = pairs.length / 2;
  const B = input.batchSize ?? 32;
  const probs = new Map<number, number>();
  // decoding and resizing in worker threads, off the thread that serves the app
  const pool = new PreprocessPool();
  const pixelsOf = pixelSource(pool, input.images, pairs, cfg);
  try {
    for (let s = 0; s < n; s += B) {
      if (input.signal?.aborted) throw new Error('Cancelled');
      const m = Math.min(B, n - s);
      const px = new Float32Array(m * 3 * S * S);
      for (let b = 0; b < m; b++) {
        px.set(await pixelsOf(pairs[2 * (s + b)]), b * 3 * S * S);
      }
      const texts = Array.from({ length: m }, (_, b) => input.texts[pairs[2 * (s + b) + 1]]);
      const enc = model.tokenizer.encodeBatch(texts, { maxLen: model.config.maxTextLen, pad: 'max_length' });
      const out = await model.runGraph('fusion', {
        pixel_values: new ort.Tensor('float32', px, [m, 3, S, S]),
        input_ids: new ort.Tensor('int64', enc.inputIds, enc.shape),
        attention_mask: new ort.Tensor('int64', enc.attentionMask, enc.shape),
      });
      const logits = out.itm_logits.data as Float32Array;
      for (let b = 0; b < m; b++) {
        const p = 1 / (1 + Math.exp(logits[2 * b] - logits[2 * b + 1])); // softmax over 2 = sigmoid of difference
        probs.set(pairs[2 * (s + b)] * T + pairs[2 * (s + b) + 1], p);
      }
      input.onProgress?.(s + m, n);
    }
  } finally {
    await pool.close();
  }
  return probs;
}

/** Re-orders each query's first k candidates by ITM probability; returns the new rank of the ground truth. */
function reorder(
  q: number,
  k: number,
  K: number,
  topIndex: Int32Array,
  prob: (candidate: number) => number,
  isTruth: (candidate: number) => boolean,
  oldRank: number,
  outIndex: Int32Array,
  outScore: Float32Array,
): number {
  const cands = Array.from(topIndex.subarray(q * K, q * K + k)).filter((c) => c >= 0);
  const scored = cands.map((c) => [c, prob(c)] as const).sort((x, y) => y[1] - x[1]);
  scored.forEach(([c, p], j) => {
    outIndex[q * k + j] = c;
    outScore[q * k + j] = p;
  });
  const at = scored.findIndex(([c]) => isTruth(c));
  return at >= 0 ? at : oldRank;
}

export async function rerankWithItm(input: RerankInput): Promise<RerankResult> {
  const { scored, textImage } = input;
  const T = textImage.length;
  const I = scored.imageRank.length;
  const k = Math.min(input.k, scored.k);
  const pairs = candidatePairs(scored, k, T, I);
  const probs = await scorePairs(input, pairs, T);
  const textRank = new Int32Array(T);
  const imageRank = new Int32Array(I);
  const textTopIndex = new Int32Array(T * k).fill(-1);
  const textTopScore = new Float32Array(T * k);
  const imageTopIndex = new Int32Array(I * k).fill(-1);
  const imageTopScore = new Float32Array(I * k);
  for (let t = 0; t < T; t++) {
    textRank[t] = reorder(
      t,
      k,
      scored.k,
      scored.textTopIndex,
      (i) => probs.get(i * T + t)!,
      (i) => i === textImage[t],
      scored.textRank[t],
      textTopIndex,
      textTopScore,
    );
  }
  for (let i = 0; i < I; i++) {
    imageRank[i] = reorder(
      i,
      k,
      scored.k,
      scored.imageTopIndex,
      (t) => probs.get(i * T + t)!,
      (t) => textImage[t] === i,
      scored.imageRank[i],
      imageTopIndex,
      imageTopScore,
    );
  }
  return {
    k,
    pairs: pairs.length / 2,
    textRank,
    imageRank,
    textTopIndex,
    textTopScore,
    imageTopIndex,
    imageTopScore,
    metrics: recallMetrics(textRank, imageRank),
  };
}
