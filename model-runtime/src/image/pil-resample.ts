// Bicubic resize that reproduces Pillow's Image.resize(size, BICUBIC) on 8-bit images bit for bit:
// the same kernel (a = -0.5), the same support widening when downscaling (which libvips does not do),
// the same fixed-point coefficients (22 fractional bits), the same horizontal-then-vertical passes with
// an 8-bit intermediate, and the same rounding. The official VLMo evaluation transform uses exactly this.

const PRECISION_BITS = 32 - 8 - 2;
const SUPPORT = 2.0;
const A = -0.5;

function bicubic(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * A;
  return 0;
}

interface Coefficients {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output pixel
  kk: Int32Array; // fixed-point weights, ksize per output pixel
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for a box [0, inSize] mapped to outSize pixels. */
export function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const weights = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      weights[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? weights[x] / ww : weights[x];
      kk[xx * ksize + x] =
        w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

const clip8 = (v: number) => {
  const x = v >> PRECISION_BITS;
  return x < 0 ? 0 : x > 255 ? 255 : x;
};

/**
 * Resizes interleaved 8-bit pixels (`channels` per pixel) from w×h to outW×outH like Pillow's BICUBIC.
 * Returns interleaved 8-bit pixels.
 */
export function resizeBicubicPil(
  src: Uint8Array,
  w: number,
  h: number,
  channels: number,
  outW: number,
  outH: number,
): Uint8Array {
  const needH = outW !== w;
  const needV = outH !== h;
  const horiz = coefficients(w, outW);
  const vert = coefficients(h, outH);
  const half = 1 << (PRECISION_BITS - 1);
  let img = src;
  let imgW = w;
  let imgH = h;
  const vBounds = Int32Array.from(vert.bounds);
  if (needH) {
    // only the rows the vertical pass will read are resized horizontally
    const yFirst = vert.bounds[0];
    const yLast = vert.bounds[outH * 2 - 2] + vert.bounds[outH * 2 - 1];
    const rows = needV ? yLast - yFirst : h;
    const offset = needV ? yFirst : 0;
    if (needV) for (let i = 0; i < outH; i++) vBounds[i * 2] -= yFirst;
    const tmp = new Uint8Array(outW * rows * channels);
    const { ksize, bounds, kk } = horiz;
    for (let yy = 0; yy < rows; yy++) {
      const rowIn = (yy + offset) * w * channels;
      const rowOut = yy * outW * channels;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        const k = xx * ksize;
        for (let c = 0; c < channels; c++) {
          let ss = half;
          for (let x = 0; x < xmax; x++) ss += src[rowIn + (x + xmin) * channels + c] * kk[k + x];
          tmp[rowOut + xx * channels + c] = clip8(ss);
        }
      }
    }
    img = tmp;
    imgW = outW;
    imgH = rows;
  }
  if (!needV) return img === src ? src.slice() : img;
  const out = new Uint8Array(outW * outH * channels);
  const { ksize, kk } = vert;
  const stride = imgW * channels;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = vBounds[yy * 2];
    const ymax = vBounds[yy * 2 + 1];
    const k = yy * ksize;
    for (let xx = 0; xx < imgW * channels; xx++) {
      let ss = half;
      for (let y = 0; y < ymax; y++) ss += img[(y + ymin) * stride + xx] * kk[k + y];
      out[yy * stride + xx] = clip8(ss);
    }
  }
  void imgH;
  return out;
}
