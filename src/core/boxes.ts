/**
 * Box geometry (areas, IoU, matching) and the coordinate conventions models
 * write boxes in. Every `Box` here is `[x1, y1, x2, y2]` in original-image pixels.
 */
import type { Box, CoordConvention, ImageSize } from './types';

export function boxArea(b: Box): number {
  const w = b[2] - b[0];
  const h = b[3] - b[1];
  return w > 0 && h > 0 ? w * h : 0;
}

function intersection(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Intersection over union, in [0, 1]; 0 when either box has no area (or holds NaN). */
export function iou(a: Box, b: Box): number {
  const areaA = boxArea(a);
  const areaB = boxArea(b);
  if (!(areaA > 0) || !(areaB > 0)) return 0;
  const inter = intersection(a, b);
  const value = inter / (areaA + areaB - inter);
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/**
 * Generalised IoU, in [-1, 1]: IoU minus the share of the smallest enclosing box
 * that neither box covers, so disjoint boxes still get a distance signal.
 */
export function giou(a: Box, b: Box): number {
  const value = iou(a, b);
  const hullW = Math.max(a[2], b[2]) - Math.min(a[0], b[0]);
  const hullH = Math.max(a[3], b[3]) - Math.min(a[1], b[1]);
  const hull = hullW > 0 && hullH > 0 ? hullW * hullH : 0;
  if (!(hull > 0) || !Number.isFinite(hull)) return value;
  const areaA = boxArea(a);
  const areaB = boxArea(b);
  const union = areaA + areaB - intersection(a, b);
  const g = value - (hull - union) / hull;
  return Number.isFinite(g) ? Math.min(value, Math.max(-1, g)) : value;
}

/**
 * Optimal one-to-one matching maximising total IoU (Hungarian algorithm).
 * Greedy matching by highest IoU can pair a prediction with the wrong evidence
 * box and leave a better overall assignment unused, which under-scores traces
 * citing several overlapping regions; the Hungarian method is exact in O(n³)
 * and n is a handful of boxes. Pairs with IoU 0 are left out: they carry no
 * overlap and would only make a box look matched. Sorted by `pred`.
 */
export function matchBoxes(pred: Box[], gt: Box[]): Array<{ pred: number; gt: number; iou: number }> {
  if (pred.length === 0 || gt.length === 0) return [];
  const transpose = pred.length > gt.length;
  const rows = transpose ? gt : pred;
  const cols = transpose ? pred : gt;
  const n = rows.length;
  const m = cols.length;
  const overlap = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) overlap[i * m + j] = iou(rows[i]!, cols[j]!);
  }
  const colToRow = hungarianMinCost((i, j) => -overlap[i * m + j]!, n, m);
  const out: Array<{ pred: number; gt: number; iou: number }> = [];
  for (let j = 0; j < m; j++) {
    const i = colToRow[j]!;
    if (i < 0) continue;
    const value = overlap[i * m + j]!;
    if (value > 0) out.push(transpose ? { pred: j, gt: i, iou: value } : { pred: i, gt: j, iou: value });
  }
  return out.sort((x, y) => x.pred - y.pred);
}

/**
 * Rectangular assignment (n rows <= m columns) minimising total cost, with
 * row and column potentials. Returns for each column its row, or -1.
 */
function hungarianMinCost(cost: (row: number, col: number) => number, n: number, m: number): Int32Array {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j]: 1-based row assigned to column j
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const colToRow = new Int32Array(m).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) colToRow[j - 1] = p[j]! - 1;
  return colToRow;
}

/**
 * Precision and recall of predicted boxes against ground truth, counting a
 * matched pair (optimal matching) as a hit when its IoU >= `threshold`.
 * Both lists empty: 1 and 1 (nothing asked, nothing claimed). Exactly one
 * empty: 0 and 0, so citing nothing for real evidence (or citing boxes where
 * none exist) is never rewarded.
 */
export function precisionRecall(pred: Box[], gt: Box[], threshold: number): { precision: number; recall: number; matched: number } {
  if (pred.length === 0 && gt.length === 0) return { precision: 1, recall: 1, matched: 0 };
  if (pred.length === 0 || gt.length === 0) return { precision: 0, recall: 0, matched: 0 };
  const matched = matchBoxes(pred, gt).filter((m) => m.iou >= threshold).length;
  return { precision: matched / pred.length, recall: matched / gt.length, matched };
}

/** Qwen2.5-VL defaults: 28 = patch 14 x merge 2; pixel bounds as in the model's preprocessor config. */
export const QWEN_FACTOR = 28;
export const QWEN_MIN_PIXELS = 56 * 56;
export const QWEN_MAX_PIXELS = 28 * 28 * 1280;

/** Python's round(): halves go to the even neighbour; the model's preprocessor uses it. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Qwen2.5-VL smart resize: both sides multiples of `factor` (28), total pixels within [minPixels, maxPixels], aspect kept.
 * Mirrors `smart_resize` of the Qwen2-VL image processor; throws RangeError on a non-positive or non-finite size.
 */
export function smartResize(size: ImageSize, opts: { factor?: number; minPixels?: number; maxPixels?: number } = {}): ImageSize {
  const factor = opts.factor ?? QWEN_FACTOR;
  const minPixels = opts.minPixels ?? QWEN_MIN_PIXELS;
  const maxPixels = opts.maxPixels ?? QWEN_MAX_PIXELS;
  const { width, height } = size;
  if (!isValidSize(size)) throw new RangeError(`image size must be positive and finite, got ${width}x${height}`);
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { width: w, height: h };
}

export function isValidSize(size: ImageSize): boolean {
  return Number.isFinite(size.width) && Number.isFinite(size.height) && size.width > 0 && size.height > 0;
}

/** Multipliers from model coordinates to original pixels, per axis. */
function scales(conv: CoordConvention, original: ImageSize, resized: ImageSize | undefined): [number, number] {
  switch (conv) {
    case 'pixels':
      return [1, 1];
    case 'relative':
      return [original.width, original.height];
    case 'qwen2-1000':
      return [original.width / 1000, original.height / 1000];
    case 'qwen25-abs': {
      const r = resized ?? smartResize(original);
      return [original.width / r.width, original.height / r.height];
    }
  }
}

/** Model coordinates -> original-image pixels. `resized` needed for 'qwen25-abs' (defaults to smartResize(original)). */
export function toOriginal(raw: readonly number[], conv: CoordConvention, original: ImageSize, resized?: ImageSize): Box {
  if (raw.length !== 4) throw new RangeError(`a box needs 4 numbers [x1, y1, x2, y2], got ${raw.length}`);
  const [sx, sy] = scales(conv, original, resized);
  return [raw[0]! * sx, raw[1]! * sy, raw[2]! * sx, raw[3]! * sy];
}

/**
 * Original-image pixels -> model coordinates. For 'qwen2-1000' and 'qwen25-abs'
 * the result is rounded to integers, as those models write them.
 */
export function fromOriginal(box: Box, conv: CoordConvention, original: ImageSize, resized?: ImageSize): number[] {
  const [sx, sy] = scales(conv, original, resized);
  const out = [box[0] / sx, box[1] / sy, box[2] / sx, box[3] / sy];
  return conv === 'qwen2-1000' || conv === 'qwen25-abs' ? out.map((x) => Math.round(x)) : out;
}

/** True when the box has no positive-area overlap with the image. */
export function boxOutsideImage(b: Box, size: ImageSize): boolean {
  return b[2] <= 0 || b[3] <= 0 || b[0] >= size.width || b[1] >= size.height;
}

export type BoxCheck = { ok: true; box: Box; clamped: boolean } | { ok: false; reason: string };

/** Rejects NaN/Infinity, wrong arity, zero/negative size, fully outside; clamps partly-outside when mode is 'clamp'. */
export function validateBox(raw: readonly number[], size: ImageSize, mode: 'clamp' | 'reject'): BoxCheck {
  if (raw.length !== 4) return { ok: false, reason: `expected 4 numbers [x1, y1, x2, y2], got ${raw.length}` };
  for (let i = 0; i < 4; i++) {
    if (!Number.isFinite(raw[i])) return { ok: false, reason: `coordinate ${i + 1} is ${String(raw[i])}, expected a finite number` };
  }
  const b: Box = [raw[0]!, raw[1]!, raw[2]!, raw[3]!];
  if (b[2] <= b[0]) return { ok: false, reason: `x2 (${b[2]}) must be greater than x1 (${b[0]})` };
  if (b[3] <= b[1]) return { ok: false, reason: `y2 (${b[3]}) must be greater than y1 (${b[1]})` };
  if (boxOutsideImage(b, size)) return { ok: false, reason: `box lies outside the ${size.width}x${size.height} image` };
  const inside = b[0] >= 0 && b[1] >= 0 && b[2] <= size.width && b[3] <= size.height;
  if (inside) return { ok: true, box: b, clamped: false };
  if (mode === 'reject') return { ok: false, reason: `box extends beyond the ${size.width}x${size.height} image` };
  const clamped: Box = [Math.max(0, b[0]), Math.max(0, b[1]), Math.min(size.width, b[2]), Math.min(size.height, b[3])];
  return { ok: true, box: clamped, clamped: true };
}
