/**
 * Images for the panel: a dataset image (or a region of it) scaled to the size the panel asks
 * for, written once into a cache folder the webview may read. Pure Node + sharp.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Box, ImageSize } from '../core/types';

export interface ServedImage {
  file: string;
  original: ImageSize;
  served: ImageSize;
}

/** The pixel rectangle of `box` clipped to the image, at least 1×1; null when it lies outside. */
export function clipRegion(box: Box, size: ImageSize): { left: number; top: number; width: number; height: number } | null {
  const x1 = Math.max(0, Math.floor(Math.min(box[0], box[2])));
  const y1 = Math.max(0, Math.floor(Math.min(box[1], box[3])));
  const x2 = Math.min(size.width, Math.ceil(Math.max(box[0], box[2])));
  const y2 = Math.min(size.height, Math.ceil(Math.max(box[1], box[3])));
  if (x1 >= size.width || y1 >= size.height || x2 <= 0 || y2 <= 0) return null;
  return { left: x1, top: y1, width: Math.max(1, x2 - x1), height: Math.max(1, y2 - y1) };
}

/** Scales `source` (optionally cropped to `region`) so its longer side is at most `maxSide`. */
export async function serveImage(source: string, cacheDir: string, maxSide: number, region?: Box): Promise<ServedImage> {
  const meta = await sharp(source).metadata();
  if (!meta.width || !meta.height) throw new Error(`${source}: not an image sharp can read`);
  const original = { width: meta.width, height: meta.height };
  const rect = region ? clipRegion(region, original) : null;
  if (region && !rect) throw new Error(`${source}: region [${region.join(', ')}] lies outside the ${original.width}×${original.height} image`);
  const mtime = statSync(source).mtimeMs;
  const key = createHash('sha1').update(JSON.stringify([source, mtime, maxSide, rect])).digest('hex').slice(0, 24);
  const file = join(cacheDir, `${key}.webp`);
  const w = rect?.width ?? original.width;
  const h = rect?.height ?? original.height;
  const scale = Math.min(1, maxSide / Math.max(w, h));
  const served = { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
  if (!existsSync(file)) {
    mkdirSync(cacheDir, { recursive: true });
    let img = sharp(source);
    if (rect) img = img.extract(rect);
    await img.resize(served.width, served.height, { fit: 'fill' }).webp({ quality: 88 }).toFile(file);
  }
  return { file, original, served };
}
