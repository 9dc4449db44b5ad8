// Review queue scoring: one order per dataset (and split) that mixes three signals.
// - label error: the mistakenness of the latest evaluation (how likely the given label is wrong);
// - uncertainty: how close the model is to undecided (ITM margin near 0; NLVR2 probability near 0.5);
// - diversity: items whose embeddings are near-duplicates (cosine >= threshold) are not shown close together.
// Pure functions only: the app, the CLI and the bench share them.

export interface ReviewWeights {
  /** weight of the label-error score (rank-normalised) */
  labelError: number;
  /** weight of model uncertainty (rank-normalised) */
  uncertainty: number;
  /** 0 turns the near-duplicate spacing off; 1 keeps near-duplicates `gap` items apart */
  diversity: number;
}

export const DEFAULT_REVIEW_WEIGHTS: ReviewWeights = { labelError: 0.7, uncertainty: 0.3, diversity: 1 };
export const NEAR_DUPLICATE_COSINE = 0.95;
export const NEAR_DUPLICATE_GAP = 50;

/** Uncertainty of a retrieval item from its margin (best other minus own): 1 at a margin of 0, falling with |margin|. */
export function marginUncertainty(margin: Float32Array): Float32Array {
  return margin.map((m) => (Number.isFinite(m) ? 1 / (1 + Math.abs(m) * 10) : 0));
}

/** Uncertainty of an NLVR2 prediction: 1 at p = 0.5, 0 at p = 0 or 1. */
export function probabilityUncertainty(probTrue: Float32Array): Float32Array {
  return probTrue.map((p) => (Number.isFinite(p) ? 1 - 2 * Math.abs(p - 0.5) : 0));
}

/** Each value's rank among all as a fraction in [0, 1] (ties share the mean rank; non-finite values rank lowest). */
export function rankNormalize(values: Float32Array): Float32Array {
  const n = values.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  const key = (i: number) => (Number.isFinite(values[i]) ? values[i] : -Infinity);
  const order = Array.from(values.keys()).sort((a, b) => key(a) - key(b));
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && key(order[j + 1]) === key(order[i])) j++;
    const r = n === 1 ? 1 : (i + j) / 2 / (n - 1);
    for (let t = i; t <= j; t++) out[order[t]] = r;
    i = j + 1;
  }
  return out;
}

/** The combined score: weighted sum of the rank-normalised label-error and uncertainty signals. */
export function combineScores(
  labelError: Float32Array,
  uncertainty: Float32Array,
  weights: ReviewWeights,
): Float32Array {
  if (labelError.length !== uncertainty.length) throw new Error('review score: signals differ in length');
  const e = rankNormalize(labelError);
  const u = rankNormalize(uncertainty);
  const we = Math.max(0, weights.labelError);
  const wu = Math.max(0, weights.uncertainty);
  const total = we + wu || 1;
  return e.map((v, i) => (we * v + wu * u[i]) / total);
}

function cosine(emb: Float32Array, dim: number, a: number, b: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const oa = a * dim;
  const ob = b * dim;
  for (let d = 0; d < dim; d++) {
    const x = emb[oa + d];
    const y = emb[ob + d];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

export interface OrderOptions {
  /** row-major embeddings, one row of `dim` per item; omit to order by score alone */
  embeddings?: Float32Array;
  dim?: number;
  threshold?: number;
  gap?: number;
  diversity?: number;
}

/**
 * Items by descending score, where an item that is a near-duplicate (cosine >= threshold) of one of the previous
 * `gap * diversity` items is held back until it is not (or until nothing else is left).
 */
export function orderQueue(scores: Float32Array, opts: OrderOptions = {}): number[] {
  const byScore = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  const emb = opts.embeddings;
  const dim = opts.dim ?? 0;
  const gap = Math.round((opts.gap ?? NEAR_DUPLICATE_GAP) * Math.max(0, Math.min(1, opts.diversity ?? 1)));
  if (!emb || dim <= 0 || gap <= 0) return byScore;
  if (emb.length < scores.length * dim) throw new Error('review order: fewer embeddings than items');
  const threshold = opts.threshold ?? NEAR_DUPLICATE_COSINE;
  const out: number[] = [];
  const nearRecent = (i: number) => {
    for (let k = Math.max(0, out.length - gap); k < out.length; k++)
      if (cosine(emb, dim, i, out[k]) >= threshold) return true;
    return false;
  };
  let held: number[] = [];
  let next = 0;
  while (out.length < byScore.length) {
    // a held item (higher score than anything after it was held) goes first once it is no longer near the window
    let placed = false;
    for (let h = 0; h < held.length; h++) {
      if (!nearRecent(held[h])) {
        out.push(held[h]);
        held.splice(h, 1);
        placed = true;
        break;
      }
    }
    if (placed) continue;
    while (next < byScore.length) {
      const i = byScore[next++];
      if (nearRecent(i)) held.push(i);
      else {
        out.push(i);
        placed = true;
        break;
      }
    }
    if (!placed) {
      // only near-duplicates are left: show them in score order
      out.push(...held);
      held = [];
    }
  }
  return out;
}

/** The largest number of near-duplicate items (of an earlier item in the same window) in any `window` consecutive items. */
export function worstNearDuplicatesPerWindow(
  order: number[],
  embeddings: Float32Array,
  dim: number,
  window = 50,
  threshold = NEAR_DUPLICATE_COSINE,
): number {
  const dup = order.map((i, p) => {
    for (let q = Math.max(0, p - window + 1); q < p; q++)
      if (cosine(embeddings, dim, i, order[q]) >= threshold) return 1;
    return 0;
  });
  let worst = 0;
  let cur = 0;
  for (let p = 0; p < dup.length; p++) {
    cur += dup[p];
    if (p >= window) cur -= dup[p - window];
    worst = Math.max(worst, cur);
  }
  return worst;
}
