/** Image checks at load time: present, decodable header, whole file there, within size limits. */
import { open, stat } from 'node:fs/promises';
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

const PNG_END = Buffer.from('0000000049454e44ae426082', 'hex');

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Whether the file ends the way a complete image of `format` does: PNG with
 * its IEND chunk, JPEG with the EOI marker, GIF with its trailer, WebP with
 * as many bytes as its RIFF header announces. Null for formats without one.
 */
async function endMarkerPresent(path: string, format: string | undefined, bytes: number): Promise<boolean | null> {
  switch (format) {
    case 'png':
      return bytes >= PNG_END.length && (await readAt(path, bytes - PNG_END.length, PNG_END.length)).equals(PNG_END);
    case 'jpeg': {
      const end = await readAt(path, Math.max(0, bytes - 2), 2);
      return end[0] === 0xff && end[1] === 0xd9;
    }
    case 'gif':
      return (await readAt(path, Math.max(0, bytes - 1), 1))[0] === 0x3b;
    case 'webp': {
      const head = await readAt(path, 0, 12);
      return head.length === 12 && head.readUInt32LE(4) + 8 <= bytes;
    }
    default:
      return null;
  }
}

/**
 * Reads the header and checks the end of the file, so checking a large
 * benchmark stays fast (a full decode costs ~80 ms per 2048 px PNG, the end
 * check well under 1 ms). Only when the end is not where it should be (or the
 * format has no end marker) is the image decoded in full, so a JPEG with data
 * after its EOI still loads and a truncated one is reported.
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
  if (bytes > limits.maxBytes)
    return { ok: false, reason: `image "${shown}" is ${formatBytes(bytes)}, over the ${formatBytes(limits.maxBytes)} limit` };
  let size: ImageSize;
  let format: string | undefined;
  try {
    const m = await sharp(path, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) return { ok: false, reason: `image "${shown}" cannot be decoded: no width/height in its header` };
    // EXIF orientations 5..8 swap the axes of the displayed image.
    size = (m.orientation ?? 1) >= 5 ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
    format = m.format;
  } catch (err) {
    return { ok: false, reason: `image "${shown}" cannot be decoded (${firstLine(err)})` };
  }
  if (size.width * size.height > limits.maxPixels) {
    return { ok: false, reason: `image "${shown}" is ${size.width}x${size.height}, over the ${limits.maxPixels} pixel limit` };
  }
  if ((await endMarkerPresent(path, format, bytes)) !== true) {
    try {
      // Shrinking to a thumbnail decodes every row without holding the whole image.
      // (stats() would too, but misses the decode error when several run at once.)
      await sharp(path, { limitInputPixels: false, failOn: 'truncated', sequentialRead: true })
        .resize(8, 8, { fit: 'fill' })
        .raw()
        .toBuffer();
    } catch (err) {
      return { ok: false, reason: `image "${shown}" is truncated or corrupt (${firstLine(err)})` };
    }
  }
  return { ok: true, size, bytes };
}

function firstLine(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] as string) : String(err);
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
