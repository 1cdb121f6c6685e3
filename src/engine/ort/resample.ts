/**
 * Bicubic resizing of 8-bit RGB pixels, computed the way Pillow's `Image.resize(size, BICUBIC)`
 * computes it (separable convolution, Keys kernel a = -0.5 widened by the downscale factor,
 * 22-bit fixed-point coefficients, horizontal pass first, each pass rounded to 8 bits). The
 * PyTorch engine's image processor resizes with Pillow, so both engines feed the model the
 * same pixels; sharp's own resize differs by a few levels when upscaling.
 */

const PRECISION_BITS = 22;
const SUPPORT = 2;

function bicubic(x: number): number {
  const a = -0.5;
  const d = Math.abs(x);
  if (d < 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return (((d - 5) * d + 8) * d - 4) * a;
  return 0;
}

interface Coefficients {
  /** Per output index: first input index and tap count. */
  bounds: Int32Array;
  /** Per output index: `size` fixed-point weights. */
  weights: Int32Array;
  size: number;
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * size);
  const w = new Float64Array(size);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = bicubic((x + xmin - center + 0.5) * ss);
      total += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const v = total !== 0 ? w[x]! / total : w[x]!;
      weights[xx * size + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, weights, size };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

const ROUND = 1 << (PRECISION_BITS - 1);

/** Resizes interleaved RGB bytes (`width` × `height`) to `outWidth` × `outHeight`. */
export function resizeBicubic(src: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (src.length !== width * height * 3)
    throw new RangeError(`resizeBicubic: expected ${width * height * 3} bytes of RGB, got ${src.length}`);
  let img = src;
  let w = width;
  if (outWidth !== width) {
    const c = coefficients(width, outWidth);
    const out = new Uint8Array(outWidth * height * 3);
    for (let y = 0; y < height; y++) {
      const row = y * width * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = c.bounds[xx * 2]!;
        const n = c.bounds[xx * 2 + 1]!;
        const k = xx * c.size;
        let r = ROUND;
        let g = ROUND;
        let b = ROUND;
        for (let x = 0; x < n; x++) {
          const p = row + (xmin + x) * 3;
          const kx = c.weights[k + x]!;
          r += img[p]! * kx;
          g += img[p + 1]! * kx;
          b += img[p + 2]! * kx;
        }
        const o = (y * outWidth + xx) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    img = out;
    w = outWidth;
  }
  if (outHeight !== height) {
    const c = coefficients(height, outHeight);
    const out = new Uint8Array(w * outHeight * 3);
    for (let yy = 0; yy < outHeight; yy++) {
      const ymin = c.bounds[yy * 2]!;
      const n = c.bounds[yy * 2 + 1]!;
      const k = yy * c.size;
      for (let x = 0; x < w; x++) {
        let r = ROUND;
        let g = ROUND;
        let b = ROUND;
        for (let y = 0; y < n; y++) {
          const p = ((ymin + y) * w + x) * 3;
          const ky = c.weights[k + y]!;
          r += img[p]! * ky;
          g += img[p + 1]! * ky;
          b += img[p + 2]! * ky;
        }
        const o = (yy * w + x) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    img = out;
  }
  return img === src ? new Uint8Array(src) : img;
}
