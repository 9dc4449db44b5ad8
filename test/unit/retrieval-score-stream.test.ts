// The streamed scoring (bounded memory) against the whole-split scoring: the same ranks, top lists, scores,
// tie order and metrics, on random embeddings with exact ties, an unreadable (all-zero) image, an image
// without captions and images whose captions lie beyond the top k, at several chunk sizes.
import { describe, expect, it } from 'vitest';
import { scoreRetrieval } from '../../model-runtime/src/retrieval/score';
import {
  createStreamSessions,
  scoreRetrievalStream,
  type CaptionChunk,
} from '../../model-runtime/src/retrieval/score-stream';

function rng(seed: number) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function fixture(I: number, T: number, D: number, seed: number) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const norm = (v: Float32Array, o: number) => {
    let s = 0;
    for (let j = 0; j < D; j++) s += v[o + j] ** 2;
    const n = Math.sqrt(s) || 1;
    for (let j = 0; j < D; j++) v[o + j] /= n;
  };
  // coarse values (a few levels per coordinate) make many exact score ties
  const level = () => Math.round(gauss() * 2) / 2;
  const images = new Float32Array(I * D).map(level);
  for (let i = 0; i < I; i++) norm(images, i * D);
  // duplicated images: every caption scores them the same
  for (let i = 0; i < 40; i++) images.copyWithin((i * 7 + 3) * D, i * 7 * D, (i * 7 + 1) * D);
  images.fill(0, 5 * D, 6 * D); // an unreadable image: zeros, so every caption scores it 0
  const textImage = new Int32Array(T);
  const texts = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    const i = Math.floor(r() * (I - 1)); // the last image has no caption
    textImage[t] = i;
    const noise = t % 3 === 0 ? 4 : 0.8; // some captions far from their image (ranks counted beyond k)
    for (let j = 0; j < D; j++) texts[t * D + j] = Math.round((images[i * D + j] * 4 + noise * level()) * 2) / 2;
    norm(texts, t * D);
  }
  // duplicated captions, one of them of another image
  for (let t = 0; t < 30; t++) texts.copyWithin((t * 11 + 1) * D, t * 11 * D, (t * 11 + 1) * D);
  return { images, texts, textImage, I, T, D };
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ai + j] * b[bi + j];
  return s;
}

describe('scoreRetrievalStream', () => {
  it('gives exactly what scoreRetrieval gives, at any chunk size', async () => {
    const f = fixture(700, 3500, 32, 7);
    const K = 10;
    const old = await scoreRetrieval({ texts: f.texts, images: f.images, dim: f.D, textImage: f.textImage, k: K });
    expect(old.counted.captions).toBeGreaterThan(100); // ranks counted beyond the top k are exercised
    expect(old.counted.images).toBeGreaterThan(10);
    const session = await createStreamSessions();
    // one caption per chunk; odd chunks and tiles; many tiles; the defaults (one tile of all images)
    const shapes = [
      { chunkCaptions: 1, budgetBytes: 4 * 700 },
      { chunkCaptions: 7, budgetBytes: 4 * 7 * 37 },
      { chunkCaptions: 256, budgetBytes: 4 * 256 * 100 },
      { chunkCaptions: 500, budgetBytes: 4 * 500 * 3 },
      {},
    ];
    for (const shape of shapes) {
      const rank = new Int32Array(f.T).fill(-9);
      const topIndex = new Int32Array(f.T * K);
      const topScore = new Float32Array(f.T * K);
      const own = new Float32Array(f.T);
      let reads = 0;
      const s = await scoreRetrievalStream({
        images: f.images,
        dim: f.D,
        textImage: f.textImage,
        k: K,
        ...shape,
        session,
        readTexts: (start, count) => {
          reads++;
          return f.texts.slice(start * f.D, (start + count) * f.D);
        },
        onCaptions: (c: CaptionChunk) => {
          rank.set(c.rank, c.start);
          topIndex.set(c.topIndex, c.start * K);
          topScore.set(c.topScore, c.start * K);
          own.set(c.own, c.start);
        },
      });
      expect(s.block).toBe(Math.min(700, Math.floor((shape.budgetBytes ?? 64 << 20) / 4 / s.chunk)));
      expect(reads).toBeGreaterThanOrEqual(Math.ceil(f.T / s.chunk));
      expect(s.k).toBe(old.k);
      expect(Array.from(s.textRank)).toEqual(Array.from(old.textRank));
      expect(Array.from(rank)).toEqual(Array.from(old.textRank));
      expect(Array.from(topIndex)).toEqual(Array.from(old.textTopIndex));
      expect(Array.from(topScore)).toEqual(Array.from(old.textTopScore));
      expect(Array.from(s.imageRank)).toEqual(Array.from(old.imageRank));
      expect(Array.from(s.imageTopIndex)).toEqual(Array.from(old.imageTopIndex));
      expect(Array.from(s.imageTopScore)).toEqual(Array.from(old.imageTopScore));
      expect(s.metrics).toEqual(old.metrics);
      expect(s.counted).toEqual(old.counted);
      // own scores as the evaluation computes them: the float64 dot kept as float32, and each image's best
      const ownRef = Float32Array.from(f.textImage, (i, t) => dot(f.texts, t * f.D, f.images, i * f.D, f.D));
      expect(Array.from(own)).toEqual(Array.from(ownRef));
      const bestRef = new Float32Array(f.I).fill(-Infinity);
      f.textImage.forEach((i, t) => (bestRef[i] = Math.max(bestRef[i], ownRef[t])));
      expect(Array.from(s.ownBest)).toEqual(Array.from(bestRef));
    }
    // the fixture's ties are real: some caption's top list holds equal scores, the zero image among them
    let ties = 0;
    for (let t = 0; t < f.T; t++)
      for (let j = 1; j < K; j++) if (old.textTopScore[t * K + j] === old.textTopScore[t * K + j - 1]) ties++;
    expect(ties).toBeGreaterThan(50);
    expect(old.imageRank[f.I - 1]).toBe(f.T); // the image without captions counts as missed
  }, 120_000);

  it('stops between chunks when cancelled', async () => {
    const f = fixture(50, 400, 8, 3);
    const ac = new AbortController();
    await expect(
      scoreRetrievalStream({
        images: f.images,
        dim: f.D,
        textImage: f.textImage,
        chunkCaptions: 10,
        signal: ac.signal,
        readTexts: (start, count) => f.texts.slice(start * f.D, (start + count) * f.D),
        onCaptions: (c) => void (c.start >= 100 && ac.abort()),
      }),
    ).rejects.toThrow('Cancelled');
  });
});
