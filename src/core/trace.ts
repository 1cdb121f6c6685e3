/**
 * The trace grammar: a total, single-pass parser of model output into
 * highlightable segments, the answer, boxes in original pixels, tool calls
 * and format problems. It scans with indexOf from one construct to the next
 * (no backtracking regexes over the whole text), so cost is linear in length.
 */
import { boxOutsideImage, isValidSize, smartResize, toOriginal, validateBox } from './boxes';
import type {
  Box,
  CoordConvention,
  DatasetRecord,
  FormatProblem,
  ImageSize,
  ParseOptions,
  ParseResult,
  Segment,
  Span,
  ToolCall,
} from './types';

/** Tools a trace may call; others are reported as `unknown-tool` and not executed. */
export const KNOWN_TOOLS: readonly string[] = ['zoom_in'];

/** Every `FormatProblem.code` the parser emits. */
export const PROBLEM_CODES = [
  'missing-think',
  'missing-answer',
  'unclosed-tag',
  'nested-tag',
  'stray-close-tag',
  'multiple-think',
  'multiple-answers',
  'text-after-answer',
  'empty-answer',
  'bad-box',
  'box-out-of-image',
  'bad-tool-call',
  'unknown-tool',
  'bad-image-size',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

/** Longest box body / ref label / JSON box object considered; longer ones are not boxes. */
const MAX_BOX_CHARS = 200;
const MAX_LABEL_CHARS = 200;
const MAX_JSON_CHARS = 600;

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const SEPARATORS = /[\s,[\]()]+/;

type Block = 'think' | 'answer';

interface Open {
  name: Block;
  span: Span;
}

/** Special tokens a chat model ends with; harmless after the answer. */
const END_TOKENS = ['<|im_end|>', '<|endoftext|>'];

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 160 || code === 0x3000;
}

function parseNumberList(body: string): { ok: true; nums: number[] } | { ok: false; reason: string } {
  if (body.length > MAX_BOX_CHARS) return { ok: false, reason: `box body longer than ${MAX_BOX_CHARS} characters` };
  const nums: number[] = [];
  for (const piece of body.split(SEPARATORS)) {
    if (piece === '') continue;
    if (!NUMBER.test(piece)) return { ok: false, reason: `'${piece.slice(0, 20)}' is not a number` };
    nums.push(Number(piece));
  }
  if (nums.length !== 4) return { ok: false, reason: `expected 4 numbers [x1, y1, x2, y2], got ${nums.length}` };
  return { ok: true, nums };
}

function quote(s: string, max = 40): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

class TraceParser {
  readonly segments: Segment[] = [];
  readonly problems: FormatProblem[] = [];
  readonly boxes: Box[] = [];
  readonly toolCalls: ToolCall[] = [];
  private readonly stack: Open[] = [];
  private textStart = 0;
  private thinkCount = 0;
  private answerCount = 0;
  private think: string | null = null;
  private lastAnswer: string | null = null;
  private thinkAt = Infinity;
  private answerAt = -1;
  /** End of the last top-level </answer>, or -1 once another <answer> opens. */
  private answerClosedAt = -1;
  private pendingRef: { label: string; end: number } | null = null;
  private readonly size: ImageSize | null;
  private readonly resized: ImageSize | undefined;
  private nextLt = -1;
  private nextBrace = -1;

  constructor(
    private readonly text: string,
    private readonly opts: ParseOptions,
  ) {
    let size: ImageSize | null = isValidSize(opts.original) ? opts.original : null;
    let resized = opts.resized;
    if (!size) {
      this.problem(
        'bad-image-size',
        `original image size must be positive, got ${opts.original.width}x${opts.original.height}; boxes cannot be converted`,
      );
    } else if (opts.convention === 'qwen25-abs') {
      if (resized && !isValidSize(resized)) {
        this.problem(
          'bad-image-size',
          `resized image size must be positive, got ${resized.width}x${resized.height}; boxes cannot be converted`,
        );
        size = null;
      } else {
        resized = resized ?? smartResize(size);
      }
    }
    this.size = size;
    this.resized = resized;
  }

  run(): ParseResult {
    const { text } = this;
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.nextLt < i) this.nextLt = indexOrEnd(text, '<', i);
      if (this.nextBrace < i) this.nextBrace = indexOrEnd(text, '{', i);
      const j = Math.min(this.nextLt, this.nextBrace);
      if (j >= n) break;
      const end = text.charCodeAt(j) === 60 ? this.tag(j) : this.jsonBox(j);
      i = end > j ? end : j + 1;
    }
    this.flush(n);
    return this.finish();
  }

  private problem(code: ProblemCode, message: string, span?: Span): void {
    this.problems.push(span ? { code, message, span } : { code, message });
  }

  private region(): 'think' | 'answer' | 'other' {
    return this.stack.length > 0 ? this.stack[this.stack.length - 1]!.name : 'other';
  }

  /** Emit the plain text before `pos` as one segment of the current region. */
  private flush(pos: number): void {
    if (pos > this.textStart) {
      this.segments.push({ kind: 'text', span: { start: this.textStart, end: pos }, region: this.region() });
      this.textStart = pos;
    }
  }

  private emit(segment: Segment): void {
    this.flush(segment.span.start);
    this.segments.push(segment);
    this.textStart = segment.span.end;
  }

  private tagSegment(start: number, literal: string): number {
    const end = start + literal.length;
    this.emit({ kind: 'tag', span: { start, end }, name: literal.replace(/^<\|?|\|?>$/g, '') });
    return end;
  }

  /** Handles a `<` at `j`; returns the end of what it consumed, or `j` when nothing matched. */
  private tag(j: number): number {
    const { text } = this;
    const next = text.charCodeAt(j + 1);
    if (next === 116 /* t */) {
      if (text.startsWith('<think>', j)) return this.open('think', j, '<think>');
      if (text.startsWith('<tool_call>', j)) return this.toolCall(j);
    } else if (next === 97 /* a */) {
      if (text.startsWith('<answer>', j)) return this.open('answer', j, '<answer>');
    } else if (next === 98 /* b */) {
      if (text.startsWith('<box>', j)) return this.box(j, '<box>', '</box>');
    } else if (next === 47 /* / */) {
      if (text.startsWith('</think>', j)) return this.close('think', j, '</think>');
      if (text.startsWith('</answer>', j)) return this.close('answer', j, '</answer>');
      for (const stray of ['</box>', '</tool_call>']) {
        if (text.startsWith(stray, j)) return this.stray(j, stray);
      }
    } else if (next === 124 /* | */) {
      if (text.startsWith('<|box_start|>', j)) return this.box(j, '<|box_start|>', '<|box_end|>');
      if (text.startsWith('<|object_ref_start|>', j)) return this.ref(j);
      for (const stray of ['<|box_end|>', '<|object_ref_end|>']) {
        if (text.startsWith(stray, j)) return this.stray(j, stray);
      }
      for (const token of END_TOKENS) {
        if (text.startsWith(token, j)) return this.tagSegment(j, token);
      }
    }
    return j;
  }

  private open(name: Block, j: number, literal: string): number {
    const end = this.tagSegment(j, literal);
    const span = { start: j, end };
    if (this.stack.length > 0) {
      this.problem('nested-tag', `<${name}> opened inside <${this.region()}>`, span);
    }
    if (name === 'think') {
      this.thinkCount++;
      if (this.thinkCount === 2) this.problem('multiple-think', 'more than one <think> block', span);
    } else {
      this.answerCount++;
      this.answerClosedAt = -1;
      if (this.answerCount === 2) this.problem('multiple-answers', 'more than one <answer> block; the last one counts', span);
    }
    this.stack.push({ name, span });
    return end;
  }

  private close(name: Block, j: number, literal: string): number {
    this.flush(j);
    let k = this.stack.length - 1;
    while (k >= 0 && this.stack[k]!.name !== name) k--;
    const end = this.tagSegment(j, literal);
    if (k < 0) {
      this.problem('stray-close-tag', `${literal} without a matching <${name}>`, { start: j, end });
      return end;
    }
    while (this.stack.length > k + 1) this.unclosed(this.stack.pop()!, j);
    this.finishBlock(this.stack.pop()!, j);
    if (name === 'answer' && this.stack.length === 0) this.answerClosedAt = end;
    return end;
  }

  private unclosed(open: Open, contentEnd: number): void {
    this.problem('unclosed-tag', `<${open.name}> is never closed`, open.span);
    this.finishBlock(open, contentEnd);
  }

  /** Blocks finish innermost first; the think text is the earliest-opened block's, the answer the latest-opened one's. */
  private finishBlock(open: Open, contentEnd: number): void {
    const content = this.text.slice(open.span.end, contentEnd).trim();
    if (open.name === 'think') {
      if (open.span.start < this.thinkAt) {
        this.think = content;
        this.thinkAt = open.span.start;
      }
    } else if (open.span.start >= this.answerAt) {
      this.lastAnswer = content;
      this.answerAt = open.span.start;
    }
  }

  private stray(j: number, literal: string): number {
    const end = this.tagSegment(j, literal);
    this.problem('stray-close-tag', `${literal} without its opening tag`, { start: j, end });
    return end;
  }

  /** `<box>…</box>` or `<|box_start|>…<|box_end|>`: the body runs to the next `<`, which must be the closing tag. */
  private box(j: number, openLiteral: string, closeLiteral: string): number {
    const { text } = this;
    const bodyStart = j + openLiteral.length;
    const lt = text.indexOf('<', bodyStart);
    if (lt < 0 || lt - bodyStart > MAX_BOX_CHARS || !text.startsWith(closeLiteral, lt)) {
      const end = this.tagSegment(j, openLiteral);
      this.problem('unclosed-tag', `${openLiteral} is not followed by coordinates and ${closeLiteral}`, { start: j, end });
      return end;
    }
    const span = { start: j, end: lt + closeLiteral.length };
    const parsed = parseNumberList(text.slice(bodyStart, lt));
    if (!parsed.ok) {
      this.problem('bad-box', `${quote(text.slice(j, span.end))}: ${parsed.reason}`, span);
      return span.end;
    }
    this.citeBox(span, parsed.nums, this.refLabel(j));
    return span.end;
  }

  /** Label of a ref that ends right before `start` (whitespace between allowed). */
  private refLabel(start: number): string | undefined {
    const ref = this.pendingRef;
    if (!ref || ref.end > start) return undefined;
    for (let p = ref.end; p < start; p++) if (!isSpace(this.text.charCodeAt(p))) return undefined;
    this.pendingRef = null;
    return ref.label;
  }

  private ref(j: number): number {
    const { text } = this;
    const open = '<|object_ref_start|>';
    const close = '<|object_ref_end|>';
    const labelStart = j + open.length;
    const lt = text.indexOf('<', labelStart);
    if (lt < 0 || lt - labelStart > MAX_LABEL_CHARS || !text.startsWith(close, lt)) {
      const end = this.tagSegment(j, open);
      this.problem('unclosed-tag', `${open} is not closed by ${close}`, { start: j, end });
      return end;
    }
    const end = lt + close.length;
    const label = text.slice(labelStart, lt).trim();
    this.emit({ kind: 'ref', span: { start: j, end }, label });
    this.pendingRef = { label, end };
    return end;
  }

  /** A flat `{"bbox_2d": [...], "label": "..."}` object at `j` (bare, in an array or in a fence); `j` when it is not one. */
  private jsonBox(j: number): number {
    const { text } = this;
    let k = j + 1;
    while (k < text.length && isSpace(text.charCodeAt(k))) k++;
    if (text.charCodeAt(k) !== 34 /* " */) return j;
    const end = matchBrace(text, j, MAX_JSON_CHARS);
    if (end < 0) return j;
    const raw = text.slice(j, end);
    if (!raw.includes('"bbox_2d"')) return j;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch {
      return j;
    }
    if (!isRecord(obj) || !('bbox_2d' in obj)) return j;
    const span = { start: j, end };
    const nums = numberArray(obj.bbox_2d);
    if (!nums) {
      this.problem('bad-box', `${quote(raw)}: bbox_2d must be an array of 4 numbers`, span);
      return end;
    }
    const label = typeof obj.label === 'string' ? obj.label : this.refLabel(j);
    this.citeBox(span, nums, label);
    return end;
  }

  private citeBox(span: Span, nums: number[], label: string | undefined): void {
    const box = this.convert(span, nums);
    if (!box) return;
    this.emit(label === undefined ? { kind: 'box', span, box, raw: nums } : { kind: 'box', span, box, label, raw: nums });
    this.boxes.push(box);
  }

  /** Model coordinates -> validated original pixels, or null with a problem recorded. */
  private convert(span: Span, nums: number[]): Box | null {
    const written = `[${nums.join(', ')}]`;
    if (!this.size) {
      this.problem('bad-box', `${written}: image size unknown, cannot convert`, span);
      return null;
    }
    if (nums.length !== 4) {
      this.problem('bad-box', `${written}: expected 4 numbers [x1, y1, x2, y2], got ${nums.length}`, span);
      return null;
    }
    const converted = toOriginal(nums, this.opts.convention, this.size, this.resized);
    const check = validateBox(converted, this.size, 'clamp');
    if (!check.ok) {
      const outside =
        converted.every(Number.isFinite) &&
        converted[2] > converted[0] &&
        converted[3] > converted[1] &&
        boxOutsideImage(converted, this.size);
      this.problem(outside ? 'box-out-of-image' : 'bad-box', `${written} (${this.opts.convention}): ${check.reason}`, span);
      return null;
    }
    if (check.clamped) {
      this.problem('box-out-of-image', `${written} (${this.opts.convention}) extends beyond the image; clamped`, span);
    }
    return check.box;
  }

  /** `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`; the JSON runs to the next `<`. */
  private toolCall(j: number): number {
    const { text } = this;
    const open = '<tool_call>';
    const close = '</tool_call>';
    const bodyStart = j + open.length;
    const lt = text.indexOf('<', bodyStart);
    if (lt < 0 || !text.startsWith(close, lt)) {
      const end = this.tagSegment(j, open);
      this.problem('unclosed-tag', `${open} is not closed by ${close}`, { start: j, end });
      return end;
    }
    const span = { start: j, end: lt + close.length };
    const raw = text.slice(bodyStart, lt).trim();
    let call: unknown;
    try {
      call = JSON.parse(raw);
    } catch (err) {
      this.problem('bad-tool-call', `${quote(raw)} is not valid JSON (${err instanceof Error ? err.message : String(err)})`, span);
      return span.end;
    }
    if (!isRecord(call) || typeof call.name !== 'string') {
      this.problem('bad-tool-call', `${quote(raw)}: expected {"name": "...", "arguments": {...}}`, span);
      return span.end;
    }
    const { name } = call;
    if (!KNOWN_TOOLS.includes(name)) {
      this.problem('unknown-tool', `unknown tool ${quote(name)}; known: ${KNOWN_TOOLS.join(', ')}`, span);
      this.emit({ kind: 'tool', span, name, box: null, raw });
      return span.end;
    }
    let args: unknown = call.arguments;
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args);
      } catch {
        args = undefined;
      }
    }
    let box: Box | null = null;
    const bbox = isRecord(args) ? args.bbox_2d : undefined;
    const nums = numberArray(bbox);
    if (!nums) {
      this.problem('bad-tool-call', `${name} needs arguments.bbox_2d as an array of 4 numbers`, span);
    } else {
      box = this.convert(span, nums);
    }
    this.emit({ kind: 'tool', span, name, box, raw });
    this.toolCalls.push({ name, box, span });
    return span.end;
  }

  private finish(): ParseResult {
    const n = this.text.length;
    while (this.stack.length > 0) this.unclosed(this.stack.pop()!, n);
    if (this.thinkCount === 0) this.problem('missing-think', 'no <think>…</think> block');
    let answerText = this.lastAnswer;
    if (this.answerCount === 0) {
      const fallback = answerLine(this.text);
      if (fallback) {
        answerText = fallback.answer;
        this.problem('missing-answer', `no <answer> tag; took the answer from the last line ${quote(fallback.answer)}`, fallback.span);
      } else {
        this.problem('missing-answer', 'no <answer>…</answer> block and no "Answer: …" line');
      }
    } else if (answerText === '') {
      this.problem('empty-answer', '<answer></answer> is empty');
    }
    if (this.answerClosedAt >= 0) {
      const extra = firstContentAfter(this.text, this.answerClosedAt);
      if (extra < n)
        this.problem('text-after-answer', 'text after </answer>', {
          start: extra,
          end: Math.max(extra + 1, firstContentBefore(this.text)),
        });
    }
    // Problems in reading order, so the panel lists them as it highlights them.
    const problems = this.problems
      .map((p, idx) => ({ p, idx }))
      .sort((a, b) => (a.p.span?.start ?? Infinity) - (b.p.span?.start ?? Infinity) || a.idx - b.idx)
      .map(({ p }) => p);
    return { segments: this.segments, think: this.think, answerText, boxes: this.boxes, toolCalls: this.toolCalls, problems };
  }
}

function indexOrEnd(text: string, ch: string, from: number): number {
  const i = text.indexOf(ch, from);
  return i < 0 ? text.length : i;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A flat array of numbers (or of two [x, y] pairs), else null. */
function numberArray(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  const flat: unknown[] = v.length === 2 && v.every(Array.isArray) ? (v as unknown[][]).flat() : v;
  return flat.every((x): x is number => typeof x === 'number') ? flat : null;
}

/**
 * End (exclusive) of the flat JSON object opening at `start`, honouring strings;
 * -1 when it is not closed within `max` characters or holds a nested object or
 * a `<` outside strings. Box objects are flat, and giving up early keeps runs of
 * `{"` from costing `max` characters each.
 */
function matchBrace(text: string, start: number, max: number): number {
  const limit = Math.min(text.length, start + max);
  let inString = false;
  for (let p = start + 1; p < limit; p++) {
    const c = text.charCodeAt(p);
    if (inString) {
      if (c === 92 /* \ */) p++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 125 /* } */) {
      return p + 1;
    } else if (c === 123 /* { */ || c === 60 /* < */) {
      return -1;
    }
  }
  return -1;
}

/** First character after `from` that is neither whitespace nor a chat end token; `text.length` if none. */
function firstContentAfter(text: string, from: number): number {
  let p = from;
  outer: while (p < text.length) {
    if (isSpace(text.charCodeAt(p))) {
      p++;
      continue;
    }
    for (const token of END_TOKENS) {
      if (text.startsWith(token, p)) {
        p += token.length;
        continue outer;
      }
    }
    return p;
  }
  return text.length;
}

/** Longest tail of the last line searched for "Answer: …"; bounds the regex work. */
const ANSWER_LINE_TAIL = 300;
const ANSWER_LINE = /\banswer\s*(?:is\b\s*[:：]?|[:：])\s*(\S.*)$/i;

/** The fallback answer: a last line like "Answer: B" or "So the answer is B." */
function answerLine(text: string): { answer: string; span: Span } | null {
  const end = firstContentBefore(text);
  if (end === 0) return null;
  const lineStart = Math.max(text.lastIndexOf('\n', end - 1) + 1, end - ANSWER_LINE_TAIL);
  const m = ANSWER_LINE.exec(text.slice(lineStart, end));
  if (!m) return null;
  const answer = m[1]!.replace(/^[*_`"'\s]+|[*_`"'\s.]+$/g, '');
  if (answer === '') return null;
  return { answer, span: { start: lineStart + m.index, end } };
}

/** End of the text with trailing whitespace and chat end tokens removed. */
function firstContentBefore(text: string): number {
  let end = text.length;
  outer: while (end > 0) {
    if (isSpace(text.charCodeAt(end - 1))) {
      end--;
      continue;
    }
    for (const token of END_TOKENS) {
      if (end >= token.length && text.startsWith(token, end - token.length)) {
        end -= token.length;
        continue outer;
      }
    }
    break;
  }
  return end;
}

/** How model text is read for a question: the model's coordinate convention on the original image size. */
export function parseOptionsFor(record: Pick<DatasetRecord, 'width' | 'height'>, info: { coordConvention: CoordConvention }): ParseOptions {
  // The parser's default resized size (Qwen smart-resize of the original) is the one the reference traces use.
  return { convention: info.coordConvention, original: { width: record.width, height: record.height } };
}

/** Parses a model output. TOTAL: never throws; anything malformed becomes a `FormatProblem`. */
export function parseTrace(text: string, opts: ParseOptions): ParseResult {
  return new TraceParser(text, opts).run();
}
