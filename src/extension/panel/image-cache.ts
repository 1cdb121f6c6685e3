/**
 * Images for the panel: a dataset image (or a region of it) scaled to the size the panel asks
 * for, and the 512 px tiles of its pyramid (src/core/tiles.ts), each written once into a cache
 * folder the webview may read. Pure Node + sharp.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tileRect, tileServedSize, type PixelRect, type TileRef } from '../../core/tiles';
import type { Box, ImageSize } from '../../core/types';

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
  const { original, mtime } = await readSize(source);
  const rect = region ? clipRegion(region, original) : null;
  if (region && !rect)
    throw new Error(`${source}: region [${region.join(', ')}] lies outside the ${original.width}×${original.height} image`);
  const key = createHash('sha1')
    .update(JSON.stringify([source, mtime, maxSide, rect]))
    .digest('hex')
    .slice(0, 24);
  const file = join(cacheDir, `${key}.webp`);
  const w = rect?.width ?? original.width;
  const h = rect?.height ?? original.height;
  const scale = Math.min(1, maxSide / Math.max(w, h));
  const served = { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
  await writeOnce(file, cacheDir, source, rect, served);
  return { file, original, served };
}

export interface ServedTile {
  file: string;
  original: ImageSize;
  /** The original-image pixels the tile covers, clipped at the image edge. */
  rect: PixelRect;
  served: ImageSize;
}

/** Makes tile `tile` of `source`'s pyramid: its rectangle of the original, scaled down by 2^level. */
export async function serveTile(source: string, cacheDir: string, tile: TileRef): Promise<ServedTile> {
  const { original, mtime } = await readSize(source);
  let rect: PixelRect;
  try {
    rect = tileRect(original, tile);
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  const served = tileServedSize(rect, tile.level);
  const key = createHash('sha1')
    .update(JSON.stringify([source, mtime, 'tile', tile.level, tile.col, tile.row]))
    .digest('hex')
    .slice(0, 24);
  const file = join(cacheDir, `${key}.webp`);
  await writeOnce(file, cacheDir, source, rect, served);
  return { file, original, rect, served };
}

async function readSize(source: string): Promise<{ original: ImageSize; mtime: number }> {
  const meta = await sharp(source).metadata();
  if (!meta.width || !meta.height) throw new Error(`${source}: not an image sharp can read`);
  return { original: { width: meta.width, height: meta.height }, mtime: statSync(source).mtimeMs };
}

/**
 * Writes `rect` of `source` scaled to `served` as WebP, unless the cache has it. The file appears
 * whole or not at all (written aside, then renamed), so a webview never loads a half-written one
 * while two requests for it race.
 */
async function writeOnce(file: string, cacheDir: string, source: string, rect: PixelRect | null, served: ImageSize): Promise<void> {
  if (existsSync(file)) return;
  mkdirSync(cacheDir, { recursive: true });
  const part = `${file}.${randomBytes(4).toString('hex')}.part`;
  let img = sharp(source);
  if (rect) img = img.extract(rect);
  try {
    await img.resize(served.width, served.height, { fit: 'fill' }).webp({ quality: 88 }).toFile(part);
    renameSync(part, file);
  } finally {
    rmSync(part, { force: true });
  }
}
