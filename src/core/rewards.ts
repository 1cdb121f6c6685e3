/**
 * iVGR reward terms. Each term is a small pure function returning a value in a
 * documented range and a one-line explanation for the panel; the run config
 * weights them and the total is the weighted sum (see docs/METHOD.md).
 */
import { answersMatch } from './answers';
import { iou, matchBoxes } from './boxes';
import { boxCells, findRegionPhrases } from './regions';
import type { Box, DatasetRecord, ImageSize, ParseResult, RewardBreakdown, RewardTerm, Stream, ToolCall } from './types';

export interface RewardResult {
  value: number;
  explanation: string;
}

export const REWARD_TERMS: readonly RewardTerm[] = ['accuracy', 'format', 'grounding', 'consistency', 'tool'];

/** Terms computed for each stream; the others do not apply to it. */
export const STREAM_TERMS: Readonly<Record<Stream, readonly RewardTerm[]>> = {
  grounded: ['accuracy', 'format', 'grounding', 'tool'],
  textual: ['accuracy', 'format', 'consistency'],
};

export interface RewardConfig {
  /** Weight per term; total = Σ weight · value. Consistency 0 is the dual-stream baseline. */
  weights: Record<RewardTerm, number>;
  /** A grounded trace is a consistency reference when it is correct and its grounding reward ≥ minIoU. */
  highQuality: { minIoU: number };
  /** Consistency = α · answer agreement + (1 − α) · localisation agreement. */
  consistencyAlpha: number;
  /** A zoom hits the evidence when IoU ≥ minIoU, or when it covers ≥ minCoverage of an evidence box while being at most maxZoomRatio times its area. */
  tool: { minIoU: number; minCoverage: number; maxZoomRatio: number };
}

export const DEFAULT_REWARD_CONFIG: RewardConfig = {
  weights: { accuracy: 1, format: 0.5, grounding: 0.5, consistency: 0.5, tool: 0 },
  highQuality: { minIoU: 0.5 },
  consistencyAlpha: 0.5,
  tool: { minIoU: 0.5, minCoverage: 0.9, maxZoomRatio: 16 },
};

function finiteAtLeast(value: unknown, field: string, min: number, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `a finite number >= ${min}` : `a number in [${min}, ${max}]`;
    throw new RangeError(`reward config: ${field} must be ${range}, got ${JSON.stringify(value) ?? String(value)}`);
  }
}

/** Throws a RangeError naming the offending field when a config value is out of range. */
export function validateRewardConfig(config: RewardConfig): RewardConfig {
  for (const term of REWARD_TERMS) finiteAtLeast(config.weights[term], `weights.${term}`, 0);
  for (const key of Object.keys(config.weights)) {
    if (!(REWARD_TERMS as readonly string[]).includes(key)) {
      throw new RangeError(`reward config: weights.${key} is not a reward term (expected one of ${REWARD_TERMS.join(', ')})`);
    }
  }
  finiteAtLeast(config.highQuality.minIoU, 'highQuality.minIoU', 0, 1);
  finiteAtLeast(config.consistencyAlpha, 'consistencyAlpha', 0, 1);
  finiteAtLeast(config.tool.minIoU, 'tool.minIoU', 0, 1);
  finiteAtLeast(config.tool.minCoverage, 'tool.minCoverage', 0, 1);
  finiteAtLeast(config.tool.maxZoomRatio, 'tool.maxZoomRatio', 1);
  return config;
}

/**
 * Parses "accuracy=1,format=0.5" into weights. Throws naming the bad item.
 */
export function parseWeightSpec(spec: string): Partial<Record<RewardTerm, number>> {
  const out: Partial<Record<RewardTerm, number>> = {};
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const m = /^([a-z]+)\s*=\s*(\S+)$/.exec(item);
    if (!m) throw new RangeError(`weights: '${item}' is not term=value`);
    const [, name, raw] = m as unknown as [string, string, string];
    if (!(REWARD_TERMS as readonly string[]).includes(name)) {
      throw new RangeError(`weights: '${name}' is not a reward term (expected one of ${REWARD_TERMS.join(', ')})`);
    }
    const value = Number(raw);
    finiteAtLeast(value, `weights.${name}`, 0);
    out[name as RewardTerm] = value;
  }
  return out;
}

function round(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

/** 1 when the answer matches the record's answer, else 0. Range {0, 1}. */
export function accuracyReward(parse: ParseResult, record: Pick<DatasetRecord, 'answer' | 'options'>): RewardResult {
  if (parse.answerText === null) return { value: 0, explanation: 'no answer found' };
  const ok = answersMatch(parse.answerText, record.answer, record.options);
  return {
    value: ok ? 1 : 0,
    explanation: ok
      ? `answer '${parse.answerText}' matches '${record.answer}'`
      : `answer '${parse.answerText}' does not match '${record.answer}'`,
  };
}

const FORMAT_PENALTY = {
  noThink: 0.25,
  noAnswer: 0.5,
  streamRule: 0.5,
  perProblem: 0.1,
  maxProblems: 0.3,
} as const;

/**
 * Format in [0, 1]: 1 minus penalties, floored at 0. Missing <think> −0.25,
 * missing answer −0.5; grounded stream citing no box −0.5; textual stream
 * writing any box or tool call −0.5; each other parser problem −0.1 (at most
 * −0.3 together). The parser's `missing-think` and, when no answer was found
 * at all, `missing-answer` are not counted twice.
 */
export function formatReward(parse: ParseResult, stream: Stream): RewardResult {
  let value = 1;
  const reasons: string[] = [];
  if (parse.think === null) {
    value -= FORMAT_PENALTY.noThink;
    reasons.push(`no <think> (−${FORMAT_PENALTY.noThink})`);
  }
  if (parse.answerText === null) {
    value -= FORMAT_PENALTY.noAnswer;
    reasons.push(`no answer (−${FORMAT_PENALTY.noAnswer})`);
  }
  if (stream === 'grounded' && parse.boxes.length === 0) {
    value -= FORMAT_PENALTY.streamRule;
    reasons.push(`grounded trace cites no box (−${FORMAT_PENALTY.streamRule})`);
  }
  if (stream === 'textual' && (parse.boxes.length > 0 || parse.toolCalls.length > 0)) {
    value -= FORMAT_PENALTY.streamRule;
    const what = [
      parse.boxes.length > 0 ? `${parse.boxes.length} box(es)` : '',
      parse.toolCalls.length > 0 ? `${parse.toolCalls.length} tool call(s)` : '',
    ].filter((s) => s);
    reasons.push(`textual trace writes ${what.join(' and ')} (−${FORMAT_PENALTY.streamRule})`);
  }
  // A missing <answer> tag still costs a little when a fallback answer line was found.
  const others = parse.problems.filter((p) => !(p.code === 'missing-think' || (p.code === 'missing-answer' && parse.answerText === null)));
  if (others.length > 0) {
    const penalty = Math.min(FORMAT_PENALTY.maxProblems, FORMAT_PENALTY.perProblem * others.length);
    value -= penalty;
    reasons.push(`${others.length} format problem(s): ${[...new Set(others.map((p) => p.code))].join(', ')} (−${round(penalty)})`);
  }
  value = Math.max(0, value);
  return { value, explanation: reasons.length === 0 ? 'well formed' : reasons.join('; ') };
}

/** IoU above which a cited box is the same region cited again, not an extra one. */
const SAME_REGION_IOU = 0.9;

/**
 * Grounding in [0, 1]: F1-style box quality, Σ IoU of the one-to-one best
 * matching (Hungarian) divided by max(|cited|, |evidence|), so extra or
 * missing boxes lower it. A box citing again a region already cited (IoU >
 * 0.9 with an earlier box) counts once: referring back to an object is not an
 * extra guess. 0 with no cited box or no evidence.
 */
export function groundingReward(boxes: readonly Box[], evidence: readonly Box[]): RewardResult {
  if (evidence.length === 0) return { value: 0, explanation: 'no ground-truth evidence: grounding not measured' };
  if (boxes.length === 0) return { value: 0, explanation: 'no box cited' };
  const distinct: Box[] = [];
  for (const b of boxes) if (!distinct.some((d) => iou(d, b) > SAME_REGION_IOU)) distinct.push(b);
  const pairs = matchBoxes(distinct, [...evidence]);
  const sum = pairs.reduce((s, p) => s + p.iou, 0);
  const value = Math.min(1, sum / Math.max(distinct.length, evidence.length));
  const best = pairs.length > 0 ? Math.max(...pairs.map((p) => p.iou)) : 0;
  const repeats = boxes.length - distinct.length;
  return {
    value,
    explanation: `${distinct.length} distinct box(es)${repeats > 0 ? ` (+${repeats} repeated)` : ''} vs ${evidence.length} evidence: matched IoU sum ${round(sum)}, best ${round(best)}`,
  };
}

/** A high-quality grounded trace of the same question, as the consistency reward sees it. */
export interface ConsistencyReference {
  id: string;
  /** Its answer text, compared with the textual answer by `answersMatch`. */
  answer: string | null;
  boxes: Box[];
}

/** Mean cell distribution of the references' boxes: each reference counts equally, each of its boxes equally. */
export function attentionMap(references: readonly ConsistencyReference[], size: ImageSize): number[] {
  const map = new Array<number>(9).fill(0);
  const withBoxes = references.filter((r) => r.boxes.length > 0);
  for (const ref of withBoxes) {
    for (const box of ref.boxes) {
      for (const { cell, weight } of boxCells(box, size)) {
        map[cell] = (map[cell] ?? 0) + weight / ref.boxes.length / withBoxes.length;
      }
    }
  }
  return map;
}

/**
 * Localisation agreement in [0, 1]: the textual trace's region phrases as a
 * distribution T over the 3x3 cells (each phrase weighs equally, spread over
 * its cells), scored against the references' attention map R normalised by
 * its peak: Σ_c T(c)·R(c)/max R. Naming the cell the references look at
 * scores 1; naming every cell scores little.
 */
export function localisationAgreement(
  text: string,
  references: readonly ConsistencyReference[],
  size: ImageSize,
): { value: number; phrases: number } {
  const phrases = findRegionPhrases(text);
  const map = attentionMap(references, size);
  const peak = Math.max(...map);
  if (phrases.length === 0 || peak <= 0) return { value: 0, phrases: phrases.length };
  let value = 0;
  for (const p of phrases) {
    for (const cell of p.cells) value += (map[cell] ?? 0) / peak / p.cells.length / phrases.length;
  }
  return { value: Math.min(1, value), phrases: phrases.length };
}

/**
 * Consistency of a textual trace with the high-quality grounded traces of the
 * same question, in [0, 1]: α · (fraction of references whose answer the
 * textual answer matches) + (1 − α) · localisation agreement of the textual
 * reasoning's region phrases with where the references' boxes are. 0 without
 * references.
 */
export function consistencyReward(
  textual: ParseResult,
  references: readonly ConsistencyReference[],
  size: ImageSize,
  opts: ConsistencyOptions = {},
): RewardResult {
  const alpha = opts.alpha ?? DEFAULT_REWARD_CONFIG.consistencyAlpha;
  if (references.length === 0) return { value: 0, explanation: 'no high-quality grounded trace for this question: no consistency signal' };
  const answer = textual.answerText;
  const agreeing = answer === null ? 0 : references.filter((r) => r.answer !== null && answersMatch(answer, r.answer, opts.options)).length;
  const answerAgreement = agreeing / references.length;
  const loc = localisationAgreement(reasoningText(textual, opts.text), references, size);
  const value = alpha * answerAgreement + (1 - alpha) * loc.value;
  const where = loc.phrases === 0 ? 'names no image region' : `${loc.phrases} region phrase(s), localisation ${round(loc.value)}`;
  return {
    value,
    explanation: `answer agrees with ${agreeing}/${references.length} reference(s); ${where}; α=${alpha}`,
  };
}

export interface ConsistencyOptions {
  /** Mix between answer and localisation agreement; default DEFAULT_REWARD_CONFIG.consistencyAlpha. */
  alpha?: number;
  /** Option texts of a multiple-choice question, for answer matching. */
  options?: readonly string[];
  /** The raw trace, so reasoning outside a <think> block can still be read. */
  text?: string;
}

/** The reasoning of a trace: its <think> text, else every non-answer text segment of the raw trace. */
export function reasoningText(parse: ParseResult, text: string | undefined): string {
  if (parse.think !== null) return parse.think;
  if (text === undefined) return '';
  return parse.segments
    .filter((s) => s.kind === 'text' && s.region !== 'answer')
    .map((s) => text.slice(s.span.start, s.span.end))
    .join('\n');
}

function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

function coverage(zoom: Box, ev: Box): number {
  const w = Math.min(zoom[2], ev[2]) - Math.max(zoom[0], ev[0]);
  const h = Math.min(zoom[3], ev[3]) - Math.max(zoom[1], ev[1]);
  const a = area(ev);
  return w > 0 && h > 0 && a > 0 ? (w * h) / a : 0;
}

/**
 * DeepEyes-style conditional tool bonus in {0, 1}: 1 only when the answer is
 * correct AND at least one zoom lands on evidence (IoU ≥ tool.minIoU, or it
 * covers ≥ tool.minCoverage of an evidence box while at most maxZoomRatio
 * times its area, so zooming a little wider than the object still counts but
 * zooming the whole image does not). Without evidence any zoom counts.
 */
export function toolReward(
  toolCalls: readonly ToolCall[],
  evidence: readonly Box[],
  correct: boolean,
  opts: RewardConfig['tool'] = DEFAULT_REWARD_CONFIG.tool,
): RewardResult {
  const zooms = toolCalls.filter((t): t is ToolCall & { box: Box } => t.box !== null);
  if (zooms.length === 0) return { value: 0, explanation: toolCalls.length === 0 ? 'no tool call' : 'no tool call names a valid region' };
  if (!correct) return { value: 0, explanation: `${zooms.length} zoom(s) but the answer is wrong` };
  if (evidence.length === 0) return { value: 1, explanation: `correct after ${zooms.length} zoom(s) (no evidence to check against)` };
  for (const z of zooms) {
    for (const ev of evidence) {
      const o = iou(z.box, ev);
      if (o >= opts.minIoU) return { value: 1, explanation: `correct and a zoom hits the evidence (IoU ${round(o)})` };
      const cov = coverage(z.box, ev);
      if (cov >= opts.minCoverage && area(z.box) <= opts.maxZoomRatio * area(ev)) {
        return { value: 1, explanation: `correct and a zoom covers ${round(cov * 100)}% of an evidence box` };
      }
    }
  }
  return { value: 0, explanation: `correct, but none of ${zooms.length} zoom(s) lands on the evidence` };
}

/** Σ weight · value over the breakdown. */
export function totalReward(breakdown: RewardBreakdown): number {
  let total = 0;
  for (const term of REWARD_TERMS) {
    const t = breakdown[term];
    if (t) total += t.weight * t.value;
  }
  return total;
}
