/**
 * Fixed-height list windowing for the rollout browser. Work per frame depends only on the rows
 * in view, never on the row count, and the scroll height is capped (browsers stop laying out
 * elements taller than ~16–33M px): past the cap, scroll position maps to rows proportionally.
 */
export const MAX_SCROLL_PX = 8_000_000;

export interface Window {
  /** Height of the scrolling spacer in CSS px. */
  scrollHeight: number;
  /** First and last row index to render (inclusive; last < first when empty). */
  first: number;
  last: number;
  /** Top of row `first` relative to the spacer's top, in CSS px. */
  firstTop: number;
}

export function computeWindow(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 6): Window {
  const natural = count * rowHeight;
  const scrollHeight = Math.min(natural, MAX_SCROLL_PX);
  if (count === 0) return { scrollHeight: 0, first: 0, last: -1, firstTop: 0 };
  const maxTop = Math.max(0, scrollHeight - viewport);
  const top = Math.min(Math.max(0, scrollTop), maxTop);
  // Offset into the natural (uncapped) list that the current scroll position stands for.
  const virtualTop = maxTop > 0 ? (top / maxTop) * Math.max(0, natural - viewport) : 0;
  const firstVisible = Math.floor(virtualTop / rowHeight);
  const first = Math.max(0, firstVisible - overscan);
  const last = Math.min(count - 1, Math.ceil((virtualTop + viewport) / rowHeight) + overscan);
  const firstTop = top + (first * rowHeight - virtualTop);
  return { scrollHeight, first, last, firstTop };
}

/** The scrollTop that shows row `index` at the top, or at the bottom (inverse of computeWindow's mapping). */
export function scrollTopForRow(
  count: number,
  rowHeight: number,
  viewport: number,
  index: number,
  align: 'top' | 'bottom' = 'top',
): number {
  const natural = count * rowHeight;
  const scrollHeight = Math.min(natural, MAX_SCROLL_PX);
  const maxTop = Math.max(0, scrollHeight - viewport);
  const maxVirtual = Math.max(0, natural - viewport);
  const wanted = align === 'top' ? index * rowHeight : (index + 1) * rowHeight - viewport;
  const virtualTop = Math.min(Math.max(0, wanted), maxVirtual);
  return maxVirtual > 0 ? (virtualTop / maxVirtual) * maxTop : 0;
}
