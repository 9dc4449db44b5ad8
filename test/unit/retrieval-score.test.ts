import { describe, expect, it } from 'vitest';
import { scoreRetrieval } from '../../model-runtime/src/retrieval/score';

function rng(seed: number) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** Captions near their image (noise controls difficulty), all L2-normalized. */
function fixture(I: number, perImage: number, D: number, noise: number, seed = 1) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const norm = (v: Float32Array, o: number) => {
    let s = 0;
    for (let j = 0; j < D; j++) s += v[o + j] ** 2;
    const n = Math.sqrt(s);
    for (let j = 0; j < D; j++) v[o + j] /= n;
  };
  const images = new Float32Array(I * D).map(() => gauss());
  for (let i = 0; i < I; i++) norm(images, i * D);
  const T = I * perImage;
  const texts = new Float32Array(T * D);
  const textImage = new Int32Array(T);
  for (let t = 0; t < T; t++) {
    const i = t % I; // captions not grouped by image, as after a shuffle
    textImage[t] = i;
    for (let j = 0; j < D; j++) texts[t * D + j] = images[i * D + j] + noise * gauss();
    norm(texts, t * D);
  }
  return { texts, images, textImage, T, I, D };
}

function reference(f: ReturnType<typeof fixture>, K: number) {
  const { texts, images, textImage, T, I, D } = f;
  const S = new Float64Array(T * I);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += texts[t * D + j] * images[i * D + j];
      S[t * I + i] = s;
    }
  const textRank = Array.from({ length: T }, (_, t) => {
    const g = S[t * I + textImage[t]];
    let n = 0;
    for (let i = 0; i < I; i++) if (S[t * I + i] > g) n++;
    return n;
  });
  const imageRank = Array.from({ length: I }, (_, i) => {
    let best = -Infinity;
    for (let t = 0; t < T; t++) if (textImage[t] === i) best = Math.max(best, S[t * I + i]);
    let n = 0;
    for (let t = 0; t < T; t++) if (S[t * I + i] > best) n++;
    return n;
  });
  const textTop = Array.from({ length: T }, (_, t) =>
    Array.from({ length: I }, (_, i) => i)
      .sort((a, b) => S[t * I + b] - S[t * I + a])
      .slice(0, K),
  );
  const recall = (ranks: number[], k: number) => (100 * ranks.filter((r) => r < k).length) / ranks.length;
  return {
    textRank,
    imageRank,
    textTop,
    metrics: {
      tr_r1: recall(imageRank, 1),
      tr_r5: recall(imageRank, 5),
      tr_r10: recall(imageRank, 10),
      ir_r1: recall(textRank, 1),
      ir_r5: recall(textRank, 5),
      ir_r10: recall(textRank, 10),
    },
  };
}

describe('retrieval scoring (official protocol)', () => {
  it.each([
    [1.2, 64, 100],
    [2.5, 100, 100],
    [2.5, 7, 100], // chunks that do not divide the captions
    [2.5, 33, 12], // most ranks lie beyond reach: counted in pass 2
  ])('matches a brute-force reference (noise %s, chunk %s, reach %s)', async (noise, chunk, reach) => {
    const f = fixture(120, 5, 32, noise);
    const ref = reference(f, 10);
    const got = await scoreRetrieval({
      texts: f.texts,
      images: f.images,
      dim: f.D,
      textImage: f.textImage,
      k: 10,
      chunk,
      reach,
    });
    if (reach < 100) expect(got.counted.captions).toBeGreaterThan(f.T / 4);
    for (const key of Object.keys(ref.metrics) as (keyof typeof ref.metrics)[])
      expect(got.metrics[key]).toBeCloseTo(ref.metrics[key], 10);
    expect(Array.from(got.textRank)).toEqual(ref.textRank);
    expect(Array.from(got.imageRank)).toEqual(ref.imageRank);
    for (let t = 0; t < f.T; t++)
      expect(Array.from(got.textTopIndex.subarray(t * 10, t * 10 + 10))).toEqual(ref.textTop[t]);
    // the metrics are not trivially 0 or 100
    expect(got.metrics.ir_r1).toBeGreaterThan(0);
    expect(got.metrics.ir_r1).toBeLessThan(100);
  });

  it('without exact ranks, ranks beyond reach read the reach and the recall is unchanged', async () => {
    const f = fixture(120, 5, 32, 2.5);
    const ref = reference(f, 10);
    const got = await scoreRetrieval({ ...f, dim: f.D, k: 10, reach: 12, exactRanks: false });
    expect(got.counted).toEqual({ captions: 0, images: 0 });
    expect(got.metrics).toEqual(ref.metrics);
    expect(Array.from(got.textRank)).toEqual(ref.textRank.map((r) => Math.min(r, 12)));
    expect(Array.from(got.imageRank)).toEqual(ref.imageRank.map((r) => Math.min(r, 12)));
  });

  it('TR counts a hit when ANY caption of the image is in the top k', async () => {
    // image 0 has two captions: one closer to image 1, one identical to image 0 -> TR@1 hit for image 0
    const D = 2;
    const images = Float32Array.from([1, 0, 0, 1]);
    const texts = Float32Array.from([0.6, 0.8, 1, 0, 0, 1]);
    const textImage = Int32Array.from([0, 0, 1]);
    const got = await scoreRetrieval({ texts, images, dim: D, textImage, k: 1 });
    expect(got.imageRank[0]).toBe(0);
    expect(got.metrics.tr_r1).toBe(100);
    expect(got.textRank[0]).toBe(1); // caption 0 prefers image 1
    expect(got.metrics.ir_r1).toBeCloseTo((100 * 2) / 3, 10);
  });
});
