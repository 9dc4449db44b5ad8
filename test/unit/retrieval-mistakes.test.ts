import { describe, expect, it } from 'vitest';
import { captionMistakenness, imageMistakenness, nlvr2Mistakenness, rankMistakes } from '../../electron/eval/mistakes';

describe('mistakenness: how likely a given label is wrong', () => {
  it('a caption: best other image minus its own image, whichever place its own image takes in the top k', () => {
    // caption 0: own image 2 ranks second (another image scores 0.9 over its 0.5) -> +0.4
    // caption 1: own image 0 ranks first (0.8); the best other scores 0.3 -> -0.5
    const topIndex = Int32Array.from([1, 2, 3, 0, 4, 1]);
    const topScore = Float32Array.from([0.9, 0.5, 0.1, 0.8, 0.3, 0.2]);
    const m = captionMistakenness(topIndex, topScore, 3, Int32Array.from([2, 0]), Float32Array.from([0.5, 0.8]));
    expect(m[0]).toBeCloseTo(0.4, 6);
    expect(m[1]).toBeCloseTo(-0.5, 6);
  });

  it('an image: best caption of another image minus its best own caption', () => {
    // image 0's top captions: 3 (of image 1, 0.7), 0 (own, 0.6); image 1's: 3 (own, 0.9), 1 (own), 2 (image 0)
    const topIndex = Int32Array.from([3, 0, 1, 3, 1, 2]);
    const topScore = Float32Array.from([0.7, 0.6, 0.2, 0.9, 0.5, 0.4]);
    const textImage = Int32Array.from([0, 1, 0, 1]);
    const m = imageMistakenness(topIndex, topScore, 3, textImage, Float32Array.from([0.6, 0.9]));
    expect(m[0]).toBeCloseTo(0.1, 6);
    expect(m[1]).toBeCloseTo(-0.5, 6);
  });

  it('an NLVR2 example: the probability of the other label; unlabelled ones are not ranked up', () => {
    const m = nlvr2Mistakenness(Float32Array.from([0.9, 0.9, 0.2, 0.7]), [true, false, false, null]);
    expect(Array.from(m).map((x) => +x.toFixed(6))).toEqual([0.1, 0.9, 0.2, 0]);
    expect(rankMistakes(m)).toEqual([1, 2, 0, 3]);
  });
});
