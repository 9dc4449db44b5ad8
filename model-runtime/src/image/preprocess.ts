// The VLMo evaluation transform: decode, convert to RGB the way PIL's convert('RGB') does (alpha dropped,
// not composited; EXIF orientation NOT applied), resize to S×S with Pillow's bicubic (aspect ratio not
// kept, no crop), scale to [0, 1], normalize with mean/std (0.5 → pixels in [-1, 1]), Float32 NCHW.
import sharp from 'sharp';
import { resizeBicubicPil } from './pil-resample';

export interface PreprocessConfig {
  imageSize: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export const VLMO_EVAL: Omit<PreprocessConfig, 'imageSize'> = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/** Decoded 8-bit RGB pixels, interleaved. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * The largest image we decode: 40 megapixels (e.g. 7,300 × 5,480). The model sees 96-384 px; the datasets it
 * reads are far smaller (COCO ≤ 640 px, Flickr30K ≤ 500 px, NLVR2 web images a few megapixels), and 40 MP
 * still admits a full-size photo of a 36-40 MP camera. Decoded as 8-bit RGB one such image is 120 MB, so the
 * up to four pre-processing workers stay near half a gigabyte at worst. sharp's default (268 MP) let one
 * 275 KB 16,000 × 16,000 PNG take the process from 150 MB to over 1 GB; it is refused, reading only its
 * header, with an error naming the file and its size (an evaluation reports it per image and goes on).
 */
export const MAX_INPUT_PIXELS = 40_000_000;

export class ImageDecodeError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`Cannot read image ${source}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

export async function decodeRgb(
  input: string | Buffer,
  name = typeof input === 'string' ? input : '<buffer>',
): Promise<RgbImage> {
  try {
    // The header first, without the limit (sharp applies it to metadata() too, with a terse message): nothing
    // is decoded yet, and an image over the limit is refused with its size.
    const header = await sharp(input, { limitInputPixels: false }).metadata();
    const pixels = (header.width ?? 0) * (header.height ?? 0);
    if (pixels > MAX_INPUT_PIXELS) {
      throw new Error(
        `${header.width} × ${header.height} is ${(pixels / 1e6).toFixed(0)} megapixels, over the limit of ${MAX_INPUT_PIXELS / 1e6} megapixels`,
      );
    }
    // No .rotate(): EXIF orientation is ignored, as PIL's loader does. 16-bit inputs are reduced to 8 bits.
    const img = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' });
    let pipeline = img.toColourspace('srgb');
    if (header.hasAlpha) pipeline = pipeline.removeAlpha();
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new ImageDecodeError(name, (e as Error).message);
  }
}

/** Resized, normalized CHW float32 for one image (length 3·S·S). */
export function toTensor(
  rgb: RgbImage,
  cfg: PreprocessConfig,
  out = new Float32Array(3 * cfg.imageSize * cfg.imageSize),
  offset = 0,
): Float32Array {
  const S = cfg.imageSize;
  const px = resizeBicubicPil(rgb.data, rgb.width, rgb.height, 3, S, S);
  const plane = S * S;
  // float32 at every step, as torchvision's ToTensor (div 255) and Normalize (sub mean, div std) compute it
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const m = f(cfg.mean[c]);
    const s = f(cfg.std[c]);
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = f(f(f(v / 255) - m) / s);
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = lut[px[i * 3 + c]];
  }
  return out;
}

export async function preprocess(input: string | Buffer, cfg: PreprocessConfig): Promise<Float32Array> {
  return toTensor(await decodeRgb(input), cfg);
}
