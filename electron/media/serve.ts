// Reads a media file (or its cached thumbnail) for either transport: the Electron protocol handler and the
// HTTP bridge both call this, so both enforce the same roots.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { MAX_INPUT_PIXELS } from '../../model-runtime/src/index';
import { ApiError } from '../api/contract';
import type { MediaRoots } from './roots';

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
};

export interface MediaResponse {
  contentType: string;
  body: Buffer;
}

export const THUMB_MIN = 16;
export const THUMB_MAX = 1024;

/**
 * The `thumb` parameter of a media URL, as both transports check it: absent (the original file) or an integer
 * edge length of 16..1024 px. Anything else is refused before a file is touched (no 0 x 0 or 10^9-px resize).
 */
export function parseThumb(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const thumb = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(thumb >= THUMB_MIN && thumb <= THUMB_MAX)) {
    throw new ApiError('invalid_arguments', `media: thumb must be an integer between ${THUMB_MIN} and ${THUMB_MAX}.`);
  }
  return thumb;
}

export async function readMedia(
  roots: MediaRoots,
  thumbnailDir: string,
  requested: string,
  thumb?: number,
): Promise<MediaResponse> {
  if (thumb !== undefined && !(Number.isInteger(thumb) && thumb >= THUMB_MIN && thumb <= THUMB_MAX)) {
    throw new ApiError('invalid_arguments', `media: thumb must be an integer between ${THUMB_MIN} and ${THUMB_MAX}.`);
  }
  const file = roots.resolve(requested);
  const ext = path.extname(file).toLowerCase();
  const contentType = CONTENT_TYPES[ext];
  if (!contentType) throw new ApiError('forbidden', `Only image files are served (${ext || 'no extension'} is not).`);
  if (!thumb) return { contentType, body: await fs.promises.readFile(file) };

  const stat = await fs.promises.stat(file);
  const key = crypto.createHash('sha1').update(`${file}\0${stat.size}\0${stat.mtimeMs}\0${thumb}`).digest('hex');
  const cached = path.join(thumbnailDir, key.slice(0, 2), `${key}.jpg`);
  try {
    return { contentType: 'image/jpeg', body: await fs.promises.readFile(cached) };
  } catch {
    // not cached yet
  }
  let body: Buffer;
  try {
    body = await sharp(file, { limitInputPixels: MAX_INPUT_PIXELS })
      .resize(thumb, thumb, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#808080' })
      .jpeg({ quality: 80 })
      .toBuffer();
  } catch (e) {
    throw new ApiError('invalid_arguments', `Cannot make a thumbnail of ${file}: ${(e as Error).message}`);
  }
  await fs.promises.mkdir(path.dirname(cached), { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, body);
  await fs.promises.rename(tmp, cached);
  return { contentType: 'image/jpeg', body };
}
