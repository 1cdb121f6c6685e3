/**
 * The region vocabulary that ties textual reasoning to image regions. The image
 * is split into a 3x3 grid, cells numbered row-major:
 *
 *     0 1 2
 *     3 4 5
 *     6 7 8
 *
 * `describeRegion` writes a location phrase for a box (used for textual
 * reference traces), `findRegionPhrases` reads such phrases back out of free
 * text (used by the consistency reward), and `boxCells` says which cells a box
 * covers.
 */
import type { Box, ImageSize, Span } from './types';

const ROW_NAMES = ['top', 'middle', 'bottom'] as const;
const COL_NAMES = ['left', 'center', 'right'] as const;

const CELL_PHRASES = [
  'near the top-left corner',
  'along the top edge',
  'near the top-right corner',
  'in the left middle',
  'at the center',
  'in the right middle',
  'near the bottom-left corner',
  'along the bottom edge',
  'near the bottom-right corner',
] as const;

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function gridIndex(v: number, extent: number): number {
  return clamp(Math.floor((v / extent) * 3), 0, 2);
}

function checkSize(size: ImageSize): void {
  if (!(size.width > 0) || !(size.height > 0) || !Number.isFinite(size.width) || !Number.isFinite(size.height)) {
    throw new RangeError(`image size must have positive finite width and height, got ${size.width}x${size.height}`);
  }
}

/** The grid cell (0..8) holding the box centre. */
export function centerCell(box: Box, size: ImageSize): number {
  checkSize(size);
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  return gridIndex(cy, size.height) * 3 + gridIndex(cx, size.width);
}

/** Short name of a cell, e.g. "top-left", "center", "bottom-center". */
export function cellName(cell: number): string {
  const row = ROW_NAMES[Math.floor(cell / 3)];
  const col = COL_NAMES[cell % 3];
  if (row === undefined || col === undefined || !Number.isInteger(cell)) throw new RangeError(`cell must be an integer 0..8, got ${cell}`);
  if (cell === 4) return 'center';
  return `${row}-${col}`;
}

/**
 * Location phrase for a box on a 3x3 grid, e.g. "near the top-right corner",
 * "at the center", "along the bottom edge", "in the left middle". The phrase
 * names the cell holding the box centre.
 */
export function describeRegion(box: Box, size: ImageSize): string {
  return CELL_PHRASES[centerCell(box, size)] as string;
}

/** The 3x3 cells a box overlaps, weighted by overlap fraction (weights sum to 1). */
export function boxCells(box: Box, size: ImageSize): Array<{ cell: number; weight: number }> {
  checkSize(size);
  const { width: w, height: h } = size;
  const x1 = clamp(Math.min(box[0], box[2]), 0, w);
  const x2 = clamp(Math.max(box[0], box[2]), 0, w);
  const y1 = clamp(Math.min(box[1], box[3]), 0, h);
  const y2 = clamp(Math.max(box[1], box[3]), 0, h);
  const area = (x2 - x1) * (y2 - y1);
  if (!(area > 0)) {
    // A degenerate (or fully clipped) box still points somewhere: its centre.
    return [{ cell: gridIndex((y1 + y2) / 2, h) * 3 + gridIndex((x1 + x2) / 2, w), weight: 1 }];
  }
  const out: Array<{ cell: number; weight: number }> = [];
  for (let r = 0; r < 3; r++) {
    const oy = Math.min(y2, ((r + 1) * h) / 3) - Math.max(y1, (r * h) / 3);
    if (oy <= 0) continue;
    for (let c = 0; c < 3; c++) {
      const ox = Math.min(x2, ((c + 1) * w) / 3) - Math.max(x1, (c * w) / 3);
      if (ox <= 0) continue;
      out.push({ cell: r * 3 + c, weight: (ox * oy) / area });
    }
  }
  return out;
}

type WordClass = 'top' | 'bottom' | 'left' | 'right' | 'mid';

const POSITION_WORDS: Record<string, WordClass> = {
  top: 'top',
  upper: 'top',
  uppermost: 'top',
  topmost: 'top',
  bottom: 'bottom',
  lower: 'bottom',
  lowermost: 'bottom',
  bottommost: 'bottom',
  left: 'left',
  leftmost: 'left',
  right: 'right',
  rightmost: 'right',
  middle: 'mid',
  center: 'mid',
  centre: 'mid',
  central: 'mid',
  centered: 'mid',
  centred: 'mid',
};

const REGION_NOUNS = new Set([
  'corner',
  'edge',
  'side',
  'half',
  'part',
  'region',
  'area',
  'quadrant',
  'portion',
  'section',
  'border',
  'third',
]);

/** What may follow "of" for the phrase to still mean the whole image frame. */
const FRAME_NOUNS = new Set(['image', 'picture', 'photo', 'photograph', 'frame', 'scene', 'view', 'screen', 'img', 'it']);

interface Word {
  text: string;
  start: number;
  end: number;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** The first word starting at or after `pos`. */
function wordAfter(text: string, pos: number): Word | undefined {
  let i = pos;
  while (i < text.length && !isLetter(text.charCodeAt(i))) i++;
  if (i >= text.length) return undefined;
  let j = i + 1;
  while (j < text.length && isLetter(text.charCodeAt(j))) j++;
  return { text: text.slice(i, j).toLowerCase(), start: i, end: j };
}

/** The last word ending at or before `pos`. */
function wordBefore(text: string, pos: number): Word | undefined {
  let j = pos;
  while (j > 0 && !isLetter(text.charCodeAt(j - 1))) j--;
  if (j === 0) return undefined;
  let i = j - 1;
  while (i > 0 && isLetter(text.charCodeAt(i - 1))) i--;
  return { text: text.slice(i, j).toLowerCase(), start: i, end: j };
}

/** Candidate position words; everything else is skipped without building words. */
const POSITION_RE = new RegExp(`(?<![A-Za-z])(?:${Object.keys(POSITION_WORDS).join('|')})(?![A-Za-z])`, 'gi');

/** Words joined only by spaces or hyphens belong to one phrase ("top-left", "lower right"). */
function adjacent(text: string, a: Word, b: Word): boolean {
  return /^[ \t-]{1,3}$/.test(text.slice(a.end, b.start));
}

const ROW_OF: Partial<Record<WordClass, number>> = { top: 0, bottom: 2 };
const COL_OF: Partial<Record<WordClass, number>> = { left: 0, right: 2 };

function isVertical(c: WordClass): boolean {
  return c === 'top' || c === 'bottom';
}

function isHorizontal(c: WordClass): boolean {
  return c === 'left' || c === 'right';
}

/** Cells denoted by one or two position words plus an optional region noun. */
function cellsFor(classes: WordClass[], noun: string | undefined): number[] {
  const [a, b] = classes as [WordClass, WordClass | undefined];
  if (b === undefined) {
    if (a === 'mid') return [4];
    const row = ROW_OF[a];
    const col = COL_OF[a];
    // "the top edge" points at the middle of that edge; "the top", "the top half" at the whole row.
    if (noun === 'edge' || noun === 'border') return row !== undefined ? [row * 3 + 1] : [3 + (col ?? 0)];
    if (row !== undefined) return [row * 3, row * 3 + 1, row * 3 + 2];
    const c = col ?? 0;
    return [c, 3 + c, 6 + c];
  }
  const vert = isVertical(a) ? a : isVertical(b) ? b : undefined;
  const horiz = isHorizontal(a) ? a : isHorizontal(b) ? b : undefined;
  const row = vert !== undefined ? (ROW_OF[vert] ?? 1) : 1;
  const col = horiz !== undefined ? (COL_OF[horiz] ?? 1) : 1;
  return [row * 3 + col];
}

/**
 * Every region phrase found in free text, as the cells of the 3x3 grid it
 * denotes (0..8, row-major, ascending), with its span. Phrases are read as
 * locations in the image frame: "upper left", "top-left corner", "the lower
 * right", "in the left middle", "the center", "the bottom", "along the top
 * edge", "right side". A lone position word counts only after "the" or before
 * a region noun (so "that is right" is not a phrase), and a phrase followed by
 * "of <object>" is skipped because it locates something inside that object
 * rather than in the image ("the top of the sign").
 */
export function findRegionPhrases(text: string): Array<{ cells: number[]; span: Span }> {
  const out: Array<{ cells: number[]; span: Span }> = [];
  const re = new RegExp(POSITION_RE);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const first: Word = { text: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length };
    const firstClass = POSITION_WORDS[first.text] as WordClass;
    const classes: WordClass[] = [firstClass];
    let last = first;
    const second = wordAfter(text, first.end);
    const secondClass = second !== undefined ? POSITION_WORDS[second.text] : undefined;
    if (second !== undefined && secondClass !== undefined && adjacent(text, first, second)) {
      const compatible =
        (isVertical(firstClass) && !isVertical(secondClass)) ||
        (isHorizontal(firstClass) && !isHorizontal(secondClass)) ||
        (firstClass === 'mid' && secondClass !== 'mid');
      if (compatible) {
        classes.push(secondClass);
        last = second;
      }
    }
    // "left-hand side"
    const hand = wordAfter(text, last.end);
    if (hand !== undefined && hand.text === 'hand' && adjacent(text, last, hand)) last = hand;
    let noun: string | undefined;
    const maybeNoun = wordAfter(text, last.end);
    const singular = maybeNoun?.text.replace(/s$/, '');
    if (
      maybeNoun !== undefined &&
      singular !== undefined &&
      REGION_NOUNS.has(singular) &&
      /^\s{1,3}$/.test(text.slice(last.end, maybeNoun.start))
    ) {
      noun = singular;
      last = maybeNoun;
    }
    const afterThe = wordBefore(text, first.start)?.text === 'the';
    const accepted = classes.length === 2 || noun !== undefined || afterThe;
    const next = wordAfter(text, last.end);
    const insideObject = next !== undefined && next.text === 'of' && !frameFollows(text, next.end);
    if (accepted && !insideObject) {
      const cells = cellsFor(classes, noun);
      out.push({ cells: [...new Set(cells)].sort((x, y) => x - y), span: { start: first.start, end: last.end } });
    }
    re.lastIndex = last.end;
  }
  return out;
}

function frameFollows(text: string, pos: number): boolean {
  let w = wordAfter(text, pos);
  if (w !== undefined && (w.text === 'the' || w.text === 'this')) w = wordAfter(text, w.end);
  return w !== undefined && FRAME_NOUNS.has(w.text);
}
