// Mistakenness: how likely an item's GIVEN label is wrong, from the model's own scores.
// - A caption: how much better it matches the best other image than its own (top score among other images
//   minus its own score); positive means the model prefers another image.
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

export function nlvr2Mistakenness(probTrue: Float32Array, labels: (boolean | null)[]): Float32Array {
  return probTrue.map((p, i) => (labels[i] === null ? 0 : labels[i] ? 1 - p : p));
}

/** Indices ordered most-likely-wrong first. */
export function rankMistakes(scores: Float32Array): number[] {
  return Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
}
