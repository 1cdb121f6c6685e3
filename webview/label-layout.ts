/**
 * Where box labels go: each label is kept inside the image and apart from the labels placed
 * before it. Candidates are tried in order (above the box, inside its top, below it, inside its
 * bottom); when all collide, the label slides down from the first until it is free. Pure, in
 * image pixels, so it is unit-tested without a browser.
 */
import type { Box, ImageSize } from '../src/core/types';

export interface LabelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LabelRequest {
  box: Box;
  width: number;
  height: number;
  /** Try below the box first (predicted boxes, so their labels do not meet the evidence labels above). */
  below?: boolean;
}

const overlaps = (a: LabelRect, b: LabelRect): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

function clampInto(r: LabelRect, image: ImageSize): LabelRect {
  return {
    ...r,
    x: Math.max(0, Math.min(image.width - r.width, r.x)),
    y: Math.max(0, Math.min(image.height - r.height, r.y)),
  };
}

/** The top-left corner of each label's rectangle, in request order. */
export function layoutLabels(requests: readonly LabelRequest[], image: ImageSize): LabelRect[] {
  const placed: LabelRect[] = [];
  for (const q of requests) {
    const [x1, y1, , y2] = q.box;
    const { width, height } = q;
    const above = { x: x1, y: y1 - height, width, height };
    const insideTop = { x: x1, y: y1, width, height };
    const under = { x: x1, y: y2, width, height };
    const insideBottom = { x: x1, y: y2 - height, width, height };
    const order = q.below ? [under, insideBottom, above, insideTop] : [above, insideTop, under, insideBottom];
    const candidates = order.map((r) => clampInto(r, image));
    let pick = candidates.find((c) => !placed.some((p) => overlaps(c, p)));
    if (!pick) {
      // Slide down (then up) from the first choice in label-height steps until free.
      const start = candidates[0]!;
      const limit = Math.ceil(image.height / Math.max(1, height));
      for (let k = 1; k <= limit && !pick; k++) {
        for (const dy of [k * height, -k * height]) {
          const c = clampInto({ ...start, y: start.y + dy }, image);
          if (!placed.some((p) => overlaps(c, p))) {
            pick = c;
            break;
          }
        }
      }
    }
    placed.push(pick ?? candidates[0]!);
  }
  return placed;
}
