/** Image checks at load time: present, decodable header, within size limits. */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { ImageSize } from '../../core/types';

export const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;
/** sharp's own default pixel limit (16383 x 16383). */
export const DEFAULT_MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

export type ImageProbe = { ok: true; size: ImageSize; bytes: number } | { ok: false; reason: string };

/** "1.5 MiB", "97.7 KiB", "512 B". */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/**
 * Reads only the image header, so checking a large benchmark stays fast; a
 * payload truncated after a valid header is reported when the image is decoded.
 */
export async function probeImage(path: string, shown: string, limits: ImageLimits): Promise<ImageProbe> {
  let bytes: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) return { ok: false, reason: `image "${shown}" is not a file` };
    bytes = st.size;
  } catch {
    return { ok: false, reason: `image "${shown}" not found` };
  }
  if (bytes > limits.maxBytes) return { ok: false, reason: `image "${shown}" is ${formatBytes(bytes)}, over the ${formatBytes(limits.maxBytes)} limit` };
  try {
    const m = await sharp(path, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) return { ok: false, reason: `image "${shown}" cannot be decoded: no width/height in its header` };
    // EXIF orientations 5..8 swap the axes of the displayed image.
    const size = (m.orientation ?? 1) >= 5 ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
    if (size.width * size.height > limits.maxPixels) {
      return { ok: false, reason: `image "${shown}" is ${size.width}x${size.height}, over the ${limits.maxPixels} pixel limit` };
    }
    return { ok: true, size, bytes };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { ok: false, reason: `image "${shown}" cannot be decoded (${msg})` };
  }
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping result order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
