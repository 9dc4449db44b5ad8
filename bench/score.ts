// `npm run bench -- score`: retrieval scoring of 25,000 captions × 5,000 images at dimension 768 with top-10
// and recall, against a bare ONNX Runtime Gemm of the same shapes, both in this process and run.
import * as ort from 'onnxruntime-node';
import { createScoreSession, scoreRetrieval } from '../model-runtime/src/retrieval/score';
import { matmulGraph } from '../model-runtime/src/retrieval/score-graph';

function randomNormalized(n: number, d: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += out[r * d + j] ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) out[r * d + j] /= norm;
  }
  return out;
}

export async function benchScore(): Promise<Record<string, unknown>> {
  const T = 25_000;
  const I = 5_000;
  const D = 768;
  const images = randomNormalized(I, D, 1);
  const texts = randomNormalized(T, D, 2);
  const textImage = Int32Array.from({ length: T }, (_, t) => t % I);

  const bare = await ort.InferenceSession.create(matmulGraph(), { executionProviders: ['cpu'] });
  const feeds = { texts: new ort.Tensor('float32', texts, [T, D]), images: new ort.Tensor('float32', images, [I, D]) };
  await bare.run({ texts: new ort.Tensor('float32', texts.subarray(0, 64 * D), [64, D]), images: feeds.images }); // warm-up
  const rss0 = process.memoryUsage().rss;
  let t0 = performance.now();
  const out = await bare.run(feeds);
  const bareSeconds = (performance.now() - t0) / 1000;
  const bareRssGrowthMB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  out.scores.dispose();

  const session = await createScoreSession();
  await scoreRetrieval({
    texts: texts.subarray(0, 64 * D),
    images,
    dim: D,
    textImage: textImage.subarray(0, 64),
    session,
  }); // warm-up
  const rss1 = process.memoryUsage().rss;
  t0 = performance.now();
  const result = await scoreRetrieval({ texts, images, dim: D, textImage, k: 10, chunk: 1024, session });
  const scoreSeconds = (performance.now() - t0) / 1000;
  const scoreRssGrowthMB = (process.memoryUsage().rss - rss1) / 2 ** 20;
  const gflop = (2 * T * I * D) / 1e9;
  return {
    benchmark: 'score',
    shape: { captions: T, images: I, dim: D, k: 10 },
    bareGemm: { seconds: bareSeconds, gflops: gflop / bareSeconds, rssGrowthMB: bareRssGrowthMB },
    scoring: { seconds: scoreSeconds, gflops: gflop / scoreSeconds, rssGrowthMB: scoreRssGrowthMB, chunk: 1024 },
    ratio: scoreSeconds / bareSeconds,
    goal: 'ratio <= 1.3, memory not growing with the full score matrix (500 MB here)',
    metricsOnRandom: result.metrics,
  };
}
