// The dual-encoder embeddings of a split's images and captions, read from the on-disk cache of the model
// fingerprint where present and encoded (then cached) otherwise. A second run of the same model on the same
// items encodes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import { realPathInside, realRootOf } from '../media/roots';
import type { JobContext } from '../jobs/service';
import { EmbeddingCache, fileKey, readEmbeddings, textKey, type MomeModel } from '../../model-runtime/src/index';
import type { SplitCaption, SplitImage } from '../datasets/items';
import { imageFingerprint, type CacheKeys } from '../models/model-folder';
import type { EvalRun } from '../api/schemas';

export type { SplitCaption, SplitImage };

export interface Embedded {
  images: Float32Array;
  texts: Float32Array;
  imageHits: number;
  textHits: number;
  /** Images that could not be read, by index, with the reason (their rows are zeros). */
  unreadable: Map<number, string>;
  /** Each image's real path, inside the dataset folder ('' where it is missing or outside). */
  real: string[];
}

/**
 * Cache keys of images (file path, size and time) and captions (text hash), as the evaluation uses them, and
 * the images' real paths. An image is read only where the media route would serve it: its real path, through
 * every symlink, inside the dataset folder (electron/media/roots.ts). Others are `missing:` with the reason.
 */
export async function embeddingKeys(root: string, images: SplitImage[], captions: SplitCaption[]) {
  const files = images.map((i) => path.join(root, i.file));
  const real = files.map(() => ''); // '' where refused
  const refused = new Map<number, string>();
  const realRoot = await realRootOf(root);
  const imageKeys = await Promise.all(
    files.map(async (f, i) => {
      try {
        real[i] = await realPathInside(root, images[i].file, realRoot);
        return await fileKey(f);
      } catch (e) {
        refused.set(
          i,
          e instanceof ApiError && e.code === 'forbidden' ? 'outside the dataset folder' : 'file not found',
        );
        return `missing:${f}`;
      }
    }),
  );
  return { files, real, refused, imageKeys, textKeys: captions.map((c) => textKey(c.raw)) };
}

/**
 * The caches a stored run's embeddings are in: texts under the run's model fingerprint, images under its model's
 * image tower key, which the model folder (if still there) tells.
 */
export function runCacheKeys(run: EvalRun): CacheKeys {
  const images = fs.existsSync(path.join(run.modelDir, 'mome.json'))
    ? imageFingerprint(run.modelDir)
    : run.modelVersion;
  return { texts: run.modelVersion, images };
}

/** The dimension of a model's cached embeddings, from the name of its text cache file. */
export function cachedDim(cacheDir: string, fingerprint: string): number | null {
  const dir = path.join(cacheDir, fingerprint);
  const f = fs.existsSync(dir) ? fs.readdirSync(dir).find((x) => /^texts\.d\d+\.emb$/.test(x)) : undefined;
  return f ? Number(/\.d(\d+)\./.exec(f)![1]) : null;
}

/**
 * A model's embedding caches: images under its image tower's key (shared by versions with the same one).
 * `indexed` keeps only keys and offsets in memory (EmbeddingCache).
 */
export function openCaches(cacheDir: string, keys: CacheKeys, dim: number, opts: { indexed?: boolean } = {}) {
  return {
    images: EmbeddingCache.open(cacheDir, keys.images, 'images', dim, opts),
    texts: EmbeddingCache.open(cacheDir, keys.texts, 'texts', dim, opts),
  };
}

/** Progress from `from` to `to` of the job while embedding; images take most of the time. */
export async function embedSplit(
  model: MomeModel,
  keys: CacheKeys,
  root: string,
  images: SplitImage[],
  captions: SplitCaption[],
  cacheDir: string,
  ctx: JobContext,
  [from, to]: [number, number],
): Promise<Embedded> {
  const E = model.config.embedDim;
  // indexed: the embeddings are read from the files, not every embedding the caches hold loaded first; a cache
  // with nothing asked of it is not opened
  const open = (key: string, ns: string) => EmbeddingCache.open(cacheDir, key, ns, E, { indexed: true });
  const caches = {
    images: images.length ? open(keys.images, 'images') : null,
    texts: captions.length ? open(keys.texts, 'texts') : null,
  };
  const { real, refused, imageKeys, textKeys } = await embeddingKeys(root, images, captions);
  const mid = from + (to - from) * 0.7;

  const imageEmb = new Float32Array(images.length * E);
  const todo = fill(imageEmb, imageKeys, caches.images, E).filter((i) => !imageKeys[i].startsWith('missing:'));
  // unreadable images (missing, outside the folder, corrupt, over the pixel limit) are reported, not fatal
  const unreadable = new Map<number, string>(refused);
  for (let s = 0; s < todo.length; s += 256) {
    ctx.throwIfCancelled();
    const part = todo.slice(s, s + 256);
    const enc = await model.encodeImages(
      part.map((i) => real[i]),
      { signal: ctx.signal },
    );
    const entries: [string, Float32Array][] = [];
    part.forEach((i, j) => {
      if (enc.errors.has(j)) return void unreadable.set(i, enc.errors.get(j)!);
      const v = enc.embeddings.subarray(j * E, (j + 1) * E);
      imageEmb.set(v, i * E);
      entries.push([imageKeys[i], v]);
    });
    caches.images!.put(entries);
    const done = Math.min(s + 256, todo.length);
    ctx.progress(from + ((mid - from) * done) / todo.length, `Encoding images: ${done} of ${todo.length}`);
  }

  const textEmb = new Float32Array(captions.length * E);
  const ttodo = fill(textEmb, textKeys, caches.texts, E);
  for (let s = 0; s < ttodo.length; s += 2048) {
    ctx.throwIfCancelled();
    const part = ttodo.slice(s, s + 2048);
    const emb = await model.encodeTexts(
      part.map((i) => captions[i].raw),
      { signal: ctx.signal },
    );
    caches.texts!.put(
      part.map((i, j) => {
        const v = emb.subarray(j * E, (j + 1) * E);
        textEmb.set(v, i * E);
        return [textKeys[i], v];
      }),
    );
    const done = Math.min(s + 2048, ttodo.length);
    ctx.progress(mid + ((to - mid) * done) / ttodo.length, `Encoding captions: ${done} of ${ttodo.length}`);
  }
  return {
    images: imageEmb,
    texts: textEmb,
    imageHits: images.length - todo.length - countMissing(imageKeys),
    textHits: captions.length - ttodo.length,
    unreadable,
    real,
  };
}

/** Copies cached rows into `out` (read from the file in runs); returns the indices still to encode. */
function fill(out: Float32Array, keys: string[], cache: EmbeddingCache | null, dim: number): number[] {
  if (!cache) return [];
  const todo: number[] = [];
  const rows: number[] = [];
  const offsets: number[] = [];
  const flush = () => {
    const got = readEmbeddings(cache.file, dim, offsets);
    rows.forEach((r, n) => out.set(got.subarray(n * dim, (n + 1) * dim), r * dim));
    rows.length = offsets.length = 0;
  };
  keys.forEach((k, i) => {
    const at = cache.offsetOf(k);
    if (at === undefined) return void todo.push(i);
    rows.push(i);
    offsets.push(at);
    if (rows.length === 8192) flush();
  });
  if (rows.length) flush();
  return todo;
}

function countMissing(keys: string[]): number {
  return keys.filter((k) => k.startsWith('missing:')).length;
}
