// `npm run bench -- eval-memory [--images 200000] [--seconds 60] [--dim 128]`: an evaluation's scoring with
// bounded memory. Writes synthetic embeddings straight into the embedding cache's files (no images can be
// embedded at this scale here) for two splits of 5 captions per image: 10,000 images (50,000 captions) and
// `--images` (default 200,000 images, 1,000,000 captions); then, each in its own process (so its peak RSS is its
// own), scores them the way the evaluation does (bench/eval-memory-child.ts): the small split whole, streamed
// and with the whole-split path it replaced (the baseline, same process shape); the large split streamed for
// `--seconds` of scoring, its time to the end extrapolated from the captions per second, as is the time of a
// million images × five million captions, and the whole-split path on it stopped after 20 s (its peak RSS then:
// what it loads before scoring). The peak RSS of both streamed runs, and the bound the code states
// (score-stream.ts), show what grows with the split: the held image embeddings, not the scores.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_CHUNK_CAPTIONS,
  DEFAULT_SCORE_BUDGET_BYTES,
  EmbeddingCache,
  textKey,
} from '../model-runtime/src/index';

export interface ChildConfig {
  work: string;
  mode: 'stream' | 'whole';
  images: number;
  captions: number;
  dim: number;
  limitSeconds?: number;
}

/** The keys the synthetic split's embeddings are cached under (an image file's key, a caption text's hash). */
export const imageKey = (i: number) => `f:/bench/images/${String(i).padStart(12, '0')}.jpg:48213:1700000000000`;
export const captionText = (t: number, images: number) => `caption ${t} of image ${t % images}`;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} takes a positive number.`);
  return v;
}

/**
 * The split's embeddings into the cache files: each image a random unit vector, each caption (t of image t mod I)
 * its image plus noise, normalized. Written in blocks through the cache's own append (indexed: nothing held).
 */
function writeSplit(dir: string, I: number, T: number, D: number): void {
  let seed = 12345;
  const uniform = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  const normalize = (v: Float32Array) => {
    let s = 0;
    for (const x of v) s += x * x;
    const n = Math.sqrt(s);
    for (let j = 0; j < v.length; j++) v[j] /= n;
    return v;
  };
  const images = new Float32Array(I * D);
  const ic = EmbeddingCache.open(dir, 'bench', 'images', D, { indexed: true });
  for (let s = 0; s < I; s += 65_536) {
    const part: [string, Float32Array][] = [];
    for (let i = s; i < Math.min(I, s + 65_536); i++) {
      const v = normalize(Float32Array.from({ length: D }, gauss));
      images.set(v, i * D);
      part.push([imageKey(i), v]);
    }
    ic.put(part);
  }
  const tc = EmbeddingCache.open(dir, 'bench', 'texts', D, { indexed: true });
  const noise = 3 / Math.sqrt(D); // about 40 percent IR R@1 among 10,000 images
  for (let s = 0; s < T; s += 65_536) {
    const part: [string, Float32Array][] = [];
    for (let t = s; t < Math.min(T, s + 65_536); t++) {
      const i = t % I;
      const v = normalize(Float32Array.from({ length: D }, (_, j) => images[i * D + j] + noise * gauss()));
      part.push([textKey(captionText(t, I)), v]);
    }
    tc.put(part);
  }
}

function child(config: ChildConfig): Record<string, unknown> {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'eval-memory-child.ts'), JSON.stringify(config)],
    { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

/**
 * The bytes the streamed evaluation holds while scoring (score-stream.ts's bound, the tile counted three times for
 * ONNX Runtime's intermediates), with the captions' typed arrays (sentid, image, offset, rank, mistakenness: 28
 * bytes each). Before scoring, finding each caption's embedding also holds the text cache's key index.
 */
function boundBytes(I: number, T: number, D: number, K = 10): number {
  const M = DEFAULT_CHUNK_CAPTIONS;
  return I * D * 4 + I * K * 8 + I * 28 + T * 28 + 2 * M * D * 4 + M * K * 8 + 3 * DEFAULT_SCORE_BUDGET_BYTES;
}

const MB = 2 ** 20;
const round = (x: number, p = 1) => Math.round(x * 10 ** p) / 10 ** p;

export async function benchEvalMemory(args: string[]): Promise<Record<string, unknown>> {
  const D = option(args, 'dim', 128);
  const large = option(args, 'images', 200_000);
  const limitSeconds = option(args, 'seconds', 60);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-eval-memory-'));
  try {
    const sizes = [10_000, large].map((images) => ({ images, captions: images * 5 }));
    const runs: Record<string, unknown>[] = [];
    for (const [n, s] of sizes.entries()) {
      const dir = path.join(work, String(s.images));
      const w0 = performance.now();
      writeSplit(dir, s.images, s.captions, D);
      const writeSeconds = (performance.now() - w0) / 1000;
      const base = { work: dir, images: s.images, captions: s.captions, dim: D };
      const streamed = child({ ...base, mode: 'stream', ...(n > 0 ? { limitSeconds } : {}) });
      const perCaption = (streamed.pass1Seconds as number) / (streamed.captionsScored as number);
      runs.push({
        ...s,
        writeCacheSeconds: round(writeSeconds),
        streamed: {
          ...streamed,
          pairsPerSecond: Math.round(
            ((streamed.captionsScored as number) * s.images) / (streamed.pass1Seconds as number),
          ),
          pass1SecondsToTheEnd: round(perCaption * s.captions),
          boundMB: round(boundBytes(s.images, s.captions, D) / MB),
        },
        // the whole-split path: whole at the small size; at the large one stopped after 20 s of scoring (its
        // peak then is what it loads before scoring, without the rows it would build after)
        whole: child({ ...base, mode: 'whole', ...(n > 0 ? { limitSeconds: 20 } : {}) }),
      });
    }
    const [small, big] = runs as {
      images: number;
      captions: number;
      streamed: Record<string, number>;
      whole?: Record<string, number>;
    }[];
    const pairsPerSecond = big.streamed.pairsPerSecond;
    const million = { images: 1_000_000, captions: 5_000_000 };
    return {
      dim: D,
      k: 10,
      chunkCaptions: DEFAULT_CHUNK_CAPTIONS,
      tileBudgetMB: DEFAULT_SCORE_BUDGET_BYTES / MB,
      runs,
      peakRssMB: {
        streamed: { small: small.streamed.peakRssMB, large: big.streamed.peakRssMB },
        whole: { small: small.whole?.peakRssMB, largeBeforeItsRows: big.whole?.peakRssMB },
      },
      // what the held image embeddings alone add between the two sizes, for comparison with the RSS growth
      imageEmbeddingsGrowthMB: round(((big.images - small.images) * D * 4) / MB),
      wholeVsStreamedAtSmall: small.whole && {
        peakRssRatio: round(small.whole.peakRssMB / small.streamed.peakRssMB, 2),
        secondsRatio: round(small.whole.seconds / small.streamed.seconds, 2),
      },
      millionByFiveMillion: {
        boundMB: round(boundBytes(million.images, million.captions, D) / MB),
        // pass 1 at the large run's speed; pass 2 (images whose captions lie beyond their top k) adds its share
        pass1Hours: round((million.images * million.captions) / pairsPerSecond / 3600, 1),
      },
      machine: { cpus: os.cpus().length },
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
