/**
 * Image preprocessing of Qwen2-VL-family models: decode (sharp), resize to the model's fixed
 * side and then to a multiple of patch × merge within the pixel budget (smart resize), rescale
 * and normalise, and lay the pixels out as the vision encoder's patches: merge blocks in row
 * order, each block's patches in row order, each patch as [channel][frame][row][column] with
 * the single frame of a still image repeated over the temporal patch.
 */
import sharp from 'sharp';
import { smartResize as coreSmartResize } from '../../core/boxes';
import { resizeBicubic } from './resample';

export interface ImageSpec {
  /** Side of the square every image is first resized to (0: none). */
  side: number;
  patchSize: number;
  temporalPatchSize: number;
  mergeSize: number;
  minPixels: number;
  maxPixels: number;
  rescaleFactor: number;
  mean: number[];
  std: number[];
}

export interface PreparedImage {
  /** [patches, 3 · temporal · patch · patch] */
  pixels: Float32Array;
  /** Patch grid (frames, rows, columns). */
  grid: [number, number, number];
  /** Visual tokens the image takes in the prompt (patches / merge²). */
  tokens: number;
}

export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

/** The processor's target size: both sides multiples of `factor`, area within [min, max], aspect kept. */
export function smartResize(height: number, width: number, factor: number, minPixels: number, maxPixels: number): [number, number] {
  // The processor refuses extreme aspect ratios; the arithmetic is the scorer's own (src/core/boxes.ts).
  if (Math.max(height, width) / Math.min(height, width) > 200) {
    throw new ImageError(`the aspect ratio ${width}x${height} is over 200:1`);
  }
  const size = coreSmartResize({ width, height }, { factor, minPixels, maxPixels });
  return [size.height, size.width];
}

async function decodeRgb(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  try {
    const { data, info } = await sharp(path)
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageError(`cannot read image ${path}: expected 3 colour channels, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    if (/no such file|missing|ENOENT/i.test(msg)) throw new ImageError(`image file not found: ${path}`);
    throw new ImageError(`cannot read image ${path}: ${msg}`);
  }
}

/** Reads `path` and returns the vision encoder's input for it. */
export async function prepareImage(path: string, spec: ImageSpec): Promise<PreparedImage> {
  let { data, width, height } = await decodeRgb(path);
  if (spec.side > 0 && (width !== spec.side || height !== spec.side)) {
    data = resizeBicubic(data, width, height, spec.side, spec.side);
    width = height = spec.side;
  }
  const factor = spec.patchSize * spec.mergeSize;
  const [h, w] = smartResize(height, width, factor, spec.minPixels, spec.maxPixels);
  if (h !== height || w !== width) {
    data = resizeBicubic(data, width, height, w, h);
    width = w;
    height = h;
  }
  return patchify(data, width, height, spec);
}

/** Normalised patches of interleaved RGB bytes whose sides are multiples of patch × merge. */
export function patchify(data: Uint8Array, width: number, height: number, spec: ImageSpec): PreparedImage {
  const p = spec.patchSize;
  const m = spec.mergeSize;
  const t = spec.temporalPatchSize;
  const gh = height / p;
  const gw = width / p;
  if (!Number.isInteger(gh / m) || !Number.isInteger(gw / m))
    throw new ImageError(`image ${width}x${height} is not a multiple of ${p * m} pixels`);
  // (v · rescale − mean) / std for every byte value, per channel.
  const lut = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v * spec.rescaleFactor - spec.mean[c]!) / spec.std[c]!));
  const perPatch = 3 * t * p * p;
  const pixels = new Float32Array(gh * gw * perPatch);
  let o = 0;
  for (let bh = 0; bh < gh / m; bh++) {
    for (let bw = 0; bw < gw / m; bw++) {
      for (let mh = 0; mh < m; mh++) {
        for (let mw = 0; mw < m; mw++) {
          const y0 = (bh * m + mh) * p;
          const x0 = (bw * m + mw) * p;
          for (let c = 0; c < 3; c++) {
            const start = o;
            const values = lut[c]!;
            for (let y = 0; y < p; y++) {
              const row = ((y0 + y) * width + x0) * 3 + c;
              for (let x = 0; x < p; x++) pixels[o++] = values[data[row + x * 3]!]!;
            }
            // A still image fills every frame of the temporal patch with itself.
            for (let f = 1; f < t; f++, o += p * p) pixels.copyWithin(o, start, start + p * p);
          }
        }
      }
    }
  }
  return { pixels, grid: [1, gh, gw], tokens: (gh * gw) / (m * m) };
}
