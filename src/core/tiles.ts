/**
 * The tile pyramid of a large image, as the panel shows it: level 0 is the original resolution and
 * each level up halves it; a tile is TILE_SIZE px at its level, so at level L it covers
 * TILE_SIZE·2^L original pixels. Shared by the panel (which tiles to ask for) and the extension
 * (which pixels make a tile), so both agree on every rectangle.
 */
import type { ImageSize } from './types';

export const TILE_SIZE = 512;
/** The highest level the protocol accepts: 2^20 px per tile side is beyond any image sharp opens. */
export const MAX_TILE_LEVEL = 20;

export interface TileRef {
  level: number;
  col: number;
  row: number;
}

/** A rectangle in original-image pixels. */
export interface PixelRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** How the image is placed on screen: viewport px = image px × scale + (tx, ty). */
export interface ViewTransform {
  scale: number;
  tx: number;
  ty: number;
}

/** A thumbnail counts as sharp enough until the screen would show its pixels this much enlarged. */
const UPSCALE_TOLERANCE = 1.25;

export const tileKey = (t: TileRef): string => `${t.level}/${t.col}/${t.row}`;

/** Original pixels one tile side covers at `level`. */
export const tileSpan = (level: number): number => TILE_SIZE * 2 ** level;

/** The coarsest useful level: the one at which the whole image fits in a single tile. */
export function topLevel(size: ImageSize): number {
  return Math.max(0, Math.ceil(Math.log2(Math.max(size.width, size.height) / TILE_SIZE)));
}

/** Columns and rows of tiles at `level`. */
export function gridSize(size: ImageSize, level: number): { cols: number; rows: number } {
  const span = tileSpan(level);
  return { cols: Math.ceil(size.width / span), rows: Math.ceil(size.height / span) };
}

/**
 * The original pixels tile `t` covers, clipped at the right and bottom edges of the image.
 * Throws a RangeError naming the tile, the image size and the grid when the tile does not exist.
 */
export function tileRect(size: ImageSize, t: TileRef): PixelRect {
  const top = topLevel(size);
  if (!Number.isInteger(t.level) || t.level < 0 || t.level > top) {
    throw new RangeError(
      `tile level ${t.level} does not exist for a ${size.width}×${size.height} image: expected a whole number from 0 to ${top}`,
    );
  }
  const grid = gridSize(size, t.level);
  if (!Number.isInteger(t.col) || !Number.isInteger(t.row) || t.col < 0 || t.row < 0 || t.col >= grid.cols || t.row >= grid.rows) {
    throw new RangeError(
      `tile (level ${t.level}, col ${t.col}, row ${t.row}) lies outside the ${size.width}×${size.height} image: level ${t.level} has cols 0–${grid.cols - 1} and rows 0–${grid.rows - 1}`,
    );
  }
  const span = tileSpan(t.level);
  const left = t.col * span;
  const y = t.row * span;
  return { left, top: y, width: Math.min(span, size.width - left), height: Math.min(span, size.height - y) };
}

/** The pixel size a tile is served at: its rectangle scaled down by 2^level, at least 1×1. */
export function tileServedSize(rect: PixelRect, level: number): ImageSize {
  const f = 2 ** level;
  return { width: Math.max(1, Math.ceil(rect.width / f)), height: Math.max(1, Math.ceil(rect.height / f)) };
}

/** The part of the image the viewport shows, in original pixels; null when none of it is on screen. */
export function visibleRegion(size: ImageSize, view: ViewTransform, viewport: ImageSize): PixelRect | null {
  const x1 = Math.max(0, -view.tx / view.scale);
  const y1 = Math.max(0, -view.ty / view.scale);
  const x2 = Math.min(size.width, (viewport.width - view.tx) / view.scale);
  const y2 = Math.min(size.height, (viewport.height - view.ty) / view.scale);
  if (!(x2 > x1 && y2 > y1)) return null;
  return { left: x1, top: y1, width: x2 - x1, height: y2 - y1 };
}

/** The finest level still as sharp as the screen needs at `devicePerImagePx` device pixels per image pixel. */
export function levelFor(size: ImageSize, devicePerImagePx: number): number {
  if (!(devicePerImagePx > 0)) return topLevel(size);
  return Math.min(topLevel(size), Math.max(0, Math.floor(Math.log2(1 / devicePerImagePx))));
}

/** Tiles of `level` that cover `region`, nearest the region's centre first (the order to fetch them in). */
export function tilesCovering(size: ImageSize, region: PixelRect, level: number): TileRef[] {
  const span = tileSpan(level);
  const grid = gridSize(size, level);
  const c1 = Math.max(0, Math.floor(region.left / span));
  const r1 = Math.max(0, Math.floor(region.top / span));
  const c2 = Math.min(grid.cols - 1, Math.ceil((region.left + region.width) / span) - 1);
  const r2 = Math.min(grid.rows - 1, Math.ceil((region.top + region.height) / span) - 1);
  const cx = region.left + region.width / 2;
  const cy = region.top + region.height / 2;
  const tiles: Array<TileRef & { d: number }> = [];
  for (let row = r1; row <= r2; row++) {
    for (let col = c1; col <= c2; col++) tiles.push({ level, col, row, d: Math.hypot((col + 0.5) * span - cx, (row + 0.5) * span - cy) });
  }
  return tiles.sort((a, b) => a.d - b.d).map(({ level: l, col, row }) => ({ level: l, col, row }));
}

/**
 * The tiles the screen needs on top of a thumbnail whose longer side is `thumbnailSide`: none while
 * the thumbnail is sharp enough, else those of the level matching the on-screen scale that cover
 * the visible part of the image.
 */
export function tilesForView(
  size: ImageSize,
  view: ViewTransform,
  viewport: ImageSize,
  devicePixelRatio: number,
  thumbnailSide: number,
): { level: number; tiles: TileRef[] } | null {
  const density = view.scale * devicePixelRatio;
  const thumbnailDensity = thumbnailSide / Math.max(size.width, size.height);
  if (density <= thumbnailDensity * UPSCALE_TOLERANCE) return null;
  const level = levelFor(size, density);
  // A level no sharper than the thumbnail would only repaint what is already there.
  if (2 ** -level <= thumbnailDensity) return null;
  const region = visibleRegion(size, view, viewport);
  return { level, tiles: region ? tilesCovering(size, region, level) : [] };
}
