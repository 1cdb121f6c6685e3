/** Pure geometry of the image view: fitting, zooming about a point, IoU captions, dragged boxes. */
import { iou } from '../src/core/boxes';
import type { Box, ImageSize } from '../src/core/types';

export interface View {
  scale: number;
  tx: number;
  ty: number;
}

export const MIN_SCALE = 0.01;
export const MAX_SCALE = 32;

/** The view that fits the whole image in the viewport, centred. */
export function fitView(image: ImageSize, viewport: ImageSize): View {
  const scale = Math.min(viewport.width / image.width, viewport.height / image.height) || 1;
  return { scale, tx: (viewport.width - image.width * scale) / 2, ty: (viewport.height - image.height * scale) / 2 };
}

/** Zooms by `factor` keeping the image point under (px, py) (viewport px) in place. */
export function zoomAt(v: View, factor: number, px: number, py: number): View {
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, v.scale * factor));
  const k = scale / v.scale;
  return { scale, tx: px - (px - v.tx) * k, ty: py - (py - v.ty) * k };
}

/** Viewport px → image px. */
export function toImage(v: View, px: number, py: number): [number, number] {
  return [(px - v.tx) / v.scale, (py - v.ty) / v.scale];
}

/** Best IoU of `box` against any of `others`, with the index of that match (-1 when none). */
export function bestMatch(box: Box, others: readonly Box[]): { iou: number; index: number } {
  let best = { iou: 0, index: -1 };
  others.forEach((o, i) => {
    const v = iou(box, o);
    if (v > best.iou || best.index < 0) best = { iou: v, index: i };
  });
  return best;
}

/** A box from two corner points, ordered and clamped to the image, rounded to whole pixels. */
export function boxFromPoints(a: [number, number], b: [number, number], image: ImageSize): Box {
  const cx = (x: number) => Math.round(Math.min(image.width, Math.max(0, x)));
  const cy = (y: number) => Math.round(Math.min(image.height, Math.max(0, y)));
  return [cx(Math.min(a[0], b[0])), cy(Math.min(a[1], b[1])), cx(Math.max(a[0], b[0])), cy(Math.max(a[1], b[1]))];
}

/** `box` moved by (dx, dy) image px, kept inside the image. */
export function moveBox(box: Box, dx: number, dy: number, image: ImageSize): Box {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  const x1 = Math.round(Math.min(image.width - w, Math.max(0, box[0] + dx)));
  const y1 = Math.round(Math.min(image.height - h, Math.max(0, box[1] + dy)));
  return [x1, y1, x1 + w, y1 + h];
}

/** A resize handle of a box: a corner or the middle of an edge, named by compass direction. */
export type Handle = 'nw' | 'n' | 'ne' | 'e' | 'se' | 's' | 'sw' | 'w';
export const HANDLES: readonly Handle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];

/** Where a handle sits on `box`, image px. */
export function handlePoint(box: Box, handle: Handle): [number, number] {
  const x = handle.includes('w') ? box[0] : handle.includes('e') ? box[2] : (box[0] + box[2]) / 2;
  const y = handle.includes('n') ? box[1] : handle.includes('s') ? box[3] : (box[1] + box[3]) / 2;
  return [x, y];
}

/** Smallest side a resized box keeps, image px, so a handle never collapses it to nothing. */
export const MIN_BOX_SIDE = 2;

/**
 * `box` with the edges that `handle` moves placed at `point` (image px): clamped to the image,
 * rounded, re-ordered when dragged past the opposite edge, and at least MIN_BOX_SIDE wide and high.
 */
export function resizeBox(box: Box, handle: Handle, point: [number, number], image: ImageSize): Box {
  const cx = (x: number) => Math.round(Math.min(image.width, Math.max(0, x)));
  const cy = (y: number) => Math.round(Math.min(image.height, Math.max(0, y)));
  let [x1, y1, x2, y2] = box;
  if (handle.includes('w')) x1 = cx(point[0]);
  if (handle.includes('e')) x2 = cx(point[0]);
  if (handle.includes('n')) y1 = cy(point[1]);
  if (handle.includes('s')) y2 = cy(point[1]);
  const side = (a: number, b: number, limit: number): [number, number] => {
    let lo = Math.min(a, b);
    let hi = Math.max(a, b);
    if (hi - lo < MIN_BOX_SIDE) {
      hi = Math.min(limit, lo + MIN_BOX_SIDE);
      lo = Math.max(0, hi - MIN_BOX_SIDE);
    }
    return [lo, hi];
  };
  [x1, x2] = side(x1, x2, image.width);
  [y1, y2] = side(y1, y2, image.height);
  return [x1, y1, x2, y2];
}
