// Facts about a model folder (mome.json + graphs) and a checkpoint file, for the registry and its cards.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readModelConfig } from '../../model-runtime/src/index';

/** Bytes on disk of a model folder's files. */
export function folderSize(dir: string): number {
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/**
 * A model folder's registry version, the `version` a ModelVersion shows: the hash of its description, mome.json
 * (which records the source checkpoint's hash). Fixed once registered.
 */
export function registryVersion(dir: string): string {
  return crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(dir, 'mome.json')))
    .digest('hex')
    .slice(0, 12);
}

/**
 * A model folder's fingerprint: the hash of its description and of every file's size and time, so it changes
 * when the graphs or weights are written again. It names the embedding caches and lets an evaluation be reused;
 * an evaluation run stores it (its `modelVersion` field and `model_version` column, named before this split).
 */
export function modelFingerprint(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) {
    const st = fs.statSync(path.join(dir, f));
    if (!st.isFile()) continue;
    h.update(f === 'mome.json' ? fs.readFileSync(path.join(dir, f)) : `${f}:${st.size}:${st.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The key of a model's image-embedding cache: its image tower's hash where the exporter recorded one
 * (`image_tower_sha256` in mome.json: the image encoder graph, its weights and the pre-processing), so versions
 * whose image side is byte-identical (a fine-tune that left it alone) share cached image embeddings; else the
 * folder's fingerprint.
 */
export function imageFingerprint(dir: string): string {
  return imageTowerKey(dir) ?? modelFingerprint(dir);
}

function imageTowerKey(dir: string): string | null {
  const tower = readModelConfig(dir).raw.image_tower_sha256;
  return typeof tower === 'string' && /^[0-9a-f]{64}$/.test(tower) ? `image-${tower.slice(0, 16)}` : null;
}

/** The embedding caches of a model folder: texts by its fingerprint, images by its image tower. */
export interface CacheKeys {
  texts: string;
  images: string;
}

export function cacheKeys(dir: string): CacheKeys {
  const texts = modelFingerprint(dir);
  return { texts, images: imageTowerKey(dir) ?? texts };
}

/** A file's sha256, streamed (checkpoints are gigabytes). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** The architecture facts a model card shows, from mome.json. */
export function architecture(dir: string): Record<string, unknown> {
  const raw = readModelConfig(dir).raw;
  const pick = [
    'num_layers',
    'hidden_size',
    'num_heads',
    'image_size',
    'patch_size',
    'patch_embed',
    'vl_start',
    'embed_dim',
    'max_text_len',
    'shared_experts',
    'heads',
    'tasks',
    'precision',
  ];
  return Object.fromEntries(pick.filter((k) => k in raw).map((k) => [k, raw[k]]));
}
