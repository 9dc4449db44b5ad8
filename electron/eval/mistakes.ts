// Mistakenness: how likely an item's GIVEN label is wrong, from the model's own scores.
// - A caption: how much better it matches the best other image than its own (top score among other images
//   minus its own score); positive means the model prefers another image.
// - An image: the same margin for text retrieval (best other image's caption minus its best own caption).
// - An NLVR2 example: the model's probability of the other label (p(True) for a "False" example).

/** For each caption: best score among images other than its own, minus the score of its own image. */
export function captionMistakenness(
  textTopIndex: Int32Array,
  textTopScore: Float32Array,
  k: number,
  textImage: Int32Array,
  ownScore: Float32Array,
): Float32Array {
  const out = new Float32Array(textImage.length);
  for (let t = 0; t < textImage.length; t++) {
    let best = -Infinity;
    for (let j = 0; j < k; j++) {
      if (textTopIndex[t * k + j] !== textImage[t]) {
        best = textTopScore[t * k + j];
        break;
      }
    }
    out[t] = best - ownScore[t];
  }
  return out;
}

/**
 * For each image: best score among captions of other images, minus the score of its best own caption
 * (the score margin of text retrieval, negated). When every one of the top k is its own caption, the k-th
 * score bounds the best other caption from above.
 */
export function imageMistakenness(
  imageTopIndex: Int32Array,
  imageTopScore: Float32Array,
  k: number,
  textImage: Int32Array,
  ownBest: Float32Array,
): Float32Array {
  const out = new Float32Array(ownBest.length);
  for (let i = 0; i < ownBest.length; i++) {
    let best = imageTopScore[i * k + k - 1];
    for (let j = 0; j < k; j++) {
      const t = imageTopIndex[i * k + j];
      if (t >= 0 && textImage[t] !== i) {
        best = imageTopScore[i * k + j];
        break;
      }
    }
    // an image without captions (or unreadable) has no margin to speak of
    out[i] = Number.isFinite(ownBest[i]) && Number.isFinite(best) ? best - ownBest[i] : 0;
  }
  return out;
}

export function nlvr2Mistakenness(probTrue: Float32Array, labels: (boolean | null)[]): Float32Array {
  return probTrue.map((p, i) => (labels[i] === null ? 0 : labels[i] ? 1 - p : p));
}

/** Indices ordered most-likely-wrong first. */
export function rankMistakes(scores: Float32Array): number[] {
  return Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
}
