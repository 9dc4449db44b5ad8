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

export { DEFAULT_REVIEW_WEIGHTS } from '../api/review-decisions';
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

/**
 * The combined score: the larger of the two weighted, rank-normalised signals (divided by the larger weight, so
 * scores span [0, 1]). Each signal can raise an item, its weight says how far. Not a weighted sum: both signals
 * come from the same margin (or probability), and an item the model is sure is mislabelled (a high label-error
 * score) is by that very fact not uncertain, so a sum would bury the clearest label errors under the undecided
 * items (measured on planted caption errors: none of them in the first 2 x planted items with a 0.7 / 0.3 sum,
 * 96-100% with this).
 */
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
  const top = Math.max(we, wu) || 1;
  return e.map((v, i) => Math.max(we * v, wu * u[i]) / top);
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

/** When nothing but near-duplicates of the window is left, up to this many are still spaced one by one. */
const SPACED_TAIL = 2000;
/** The tail's near-duplicates moved forward at most; the moving stops after this many in a row find no place. */
const MOVES = 2000;
const FAILED_MOVES = 20;
const BLOCK = 32;

/**
 * The near-duplicate test of `cosine` (same sums in the same order, so the same answers), faster: squared norms
 * once per item, and a dot product that stops as soon as the part still to add cannot reach the threshold
 * (Cauchy-Schwarz on the remaining blocks of 32 dimensions).
 */
function nearTest(emb: Float32Array, dim: number, n: number, threshold: number) {
  const blocks = Math.ceil(dim / BLOCK);
  const sq = new Float64Array(n);
  // tail[i * (blocks + 1) + b]: the norm of item i's dimensions from block b on
  const tail = new Float64Array(n * (blocks + 1));
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) s += emb[o + d] * emb[o + d];
    sq[i] = s;
    let t = 0;
    for (let b = blocks - 1; b >= 0; b--) {
      for (let d = b * BLOCK; d < Math.min(dim, (b + 1) * BLOCK); d++) t += emb[o + d] * emb[o + d];
      tail[i * (blocks + 1) + b] = Math.sqrt(t);
    }
  }
  return (a: number, b: number): boolean => {
    const na = sq[a];
    const nb = sq[b];
    if (!(na > 0 && nb > 0)) return 0 >= threshold;
    const ta = a * (blocks + 1);
    const tb = b * (blocks + 1);
    const norms = tail[ta] * tail[tb];
    // the bound's target, less a slack for rounding in the bound only; the answer is the exact expression below
    const need = threshold * norms - (1e-6 * norms + 1e-12);
    const oa = a * dim;
    const ob = b * dim;
    let dot = 0;
    let d = 0;
    for (let k = 1; k <= blocks; k++) {
      for (const end = Math.min(dim, k * BLOCK); d < end; d++) dot += emb[oa + d] * emb[ob + d];
      if (k < blocks && dot + tail[ta + k] * tail[tb + k] < need) return false;
    }
    return dot / Math.sqrt(na * nb) >= threshold;
  };
}

/**
 * Items by descending score, where an item that is a near-duplicate (cosine >= threshold) of one of the previous
 * `gap * diversity` items is held back until it is not. When only held items are left and none is free, the one
 * whose nearest conflict lies furthest back goes next (score order among equals), so what is left of several
 * clusters is interleaved; past SPACED_TAIL such items (a queue of near-duplicates of itself) the rest follows in
 * score order. Last, each near-duplicate still within `gap` of its like (the end of the queue, where a cluster's
 * last members are all that is left) moves forward to the latest place where none is within `gap` on either side.
 */
export function orderQueue(scores: Float32Array, opts: OrderOptions = {}): number[] {
  const byScore = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  const emb = opts.embeddings;
  const dim = opts.dim ?? 0;
  const gap = Math.round((opts.gap ?? NEAR_DUPLICATE_GAP) * Math.max(0, Math.min(1, opts.diversity ?? 1)));
  if (!emb || dim <= 0 || gap <= 0) return byScore;
  if (emb.length < scores.length * dim) throw new Error('review order: fewer embeddings than items');
  const near = nearTest(emb, dim, scores.length, opts.threshold ?? NEAR_DUPLICATE_COSINE);
  const out: number[] = [];
  // held items in score order, each with the position in `out` of its latest near-duplicate as of `checked`
  // (the length of `out` when it was last looked at: later items are compared only when it might be free)
  let held: number[] = [];
  let lastNear: number[] = [];
  let checked: number[] = [];
  const latestNear = (i: number, since: number) => {
    for (let k = out.length - 1; k >= Math.max(since, out.length - gap); k--) if (near(i, out[k])) return k;
    return -1;
  };
  const refresh = (h: number) => {
    const k = latestNear(held[h], checked[h]);
    if (k >= 0) lastNear[h] = k;
    checked[h] = out.length;
  };
  const take = (h: number) => {
    const i = held[h];
    held.splice(h, 1);
    lastNear.splice(h, 1);
    checked.splice(h, 1);
    out.push(i);
  };
  let next = 0;
  // where the first item placed beside a near-duplicate went: everything before it is spaced
  let firstClose = -1;
  while (out.length < byScore.length) {
    // a held item (higher score than anything after it was held) goes first once it is no longer near the window
    const from = out.length - gap;
    let free = -1;
    for (let h = 0; h < held.length && free < 0; h++) {
      if (lastNear[h] >= from) continue; // still near the window: later items cannot change that
      refresh(h);
      if (lastNear[h] < from) free = h;
    }
    if (free >= 0) {
      take(free);
      continue;
    }
    let placed = false;
    while (next < byScore.length) {
      const i = byScore[next++];
      const k = latestNear(i, 0);
      if (k >= 0) {
        held.push(i);
        lastNear.push(k);
        checked.push(out.length);
      } else {
        out.push(i);
        placed = true;
        break;
      }
    }
    if (placed) continue;
    if (firstClose < 0) firstClose = out.length;
    if (held.length > SPACED_TAIL) {
      out.push(...held);
      held = [];
      lastNear = [];
      checked = [];
      continue;
    }
    // only near-duplicates of the window are left: the one whose conflict is oldest
    for (let h = 0; h < held.length; h++) refresh(h);
    let pick = 0;
    for (let h = 1; h < held.length; h++) if (lastNear[h] < lastNear[pick]) pick = h;
    take(pick);
  }
  return firstClose < 0 ? out : moveForward(out, near, gap, firstClose);
}

/** The near-duplicates of `order` within `gap` of an earlier like, moved forward where they fit (see orderQueue). */
function moveForward(order: number[], near: (a: number, b: number) => boolean, gap: number, from: number): number[] {
  const out = order.slice();
  const isDup = (p: number) => {
    for (let k = Math.max(0, p - gap); k < p; k++) if (near(out[p], out[k])) return true;
    return false;
  };
  let p = from;
  let failed = 0;
  for (let moves = 0; moves < MOVES && failed < FAILED_MOVES; moves++) {
    while (p < out.length && !isDup(p)) p++;
    if (p >= out.length) break;
    const x = out[p];
    out.splice(p, 1);
    // the latest index q < p to insert x at with no like among out[q - gap .. q + gap - 1]
    const like = out.map((y) => near(x, y));
    let q = -1;
    let count = 0; // likes in out[c - gap, c + gap - 1] for the candidate c, moving down from p - 1
    for (let c = p - 1, first = true; c >= 0; c--) {
      if (first) {
        for (let k = Math.max(0, c - gap); k <= Math.min(out.length - 1, c + gap - 1); k++) count += +like[k];
        first = false;
      } else {
        if (c + gap < out.length) count -= +like[c + gap];
        if (c - gap >= 0) count += +like[c - gap];
      }
      if (count === 0) {
        q = c;
        break;
      }
    }
    if (q < 0) {
      out.splice(p, 0, x); // no place: it stays
      p++;
      failed++;
      continue;
    }
    out.splice(q, 0, x);
    failed = 0;
    p++; // out[p] is now the item after x's old place; what is before it has no near-duplicate within gap
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
