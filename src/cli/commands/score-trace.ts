/**
 * What `ivgr score` computes, for the single-trace command and its `--jsonl` batch mode alike:
 * one trace against one record (the command's JSON answer), or one question's two stream groups
 * exactly as the trainer scores them (`scoreQuestion`).
 */
import { DEFAULT_ADVANTAGE_OPTIONS } from '../../core/advantages';
import {
  validateRewardConfig,
  DEFAULT_REWARD_CONFIG,
  REWARD_TERMS,
  type ConsistencyReference,
  type RewardConfig,
} from '../../core/rewards';
import { scoreGrounded, scoreQuestion, scoreTextual, type ScoredSample } from '../../core/score';
import { parseTrace } from '../../core/trace';
import type {
  Box,
  CoordConvention,
  DatasetRecord,
  FormatProblem,
  ParseOptions,
  RewardBreakdown,
  RewardTerm,
  Stream,
} from '../../core/types';
import { parseRecordInput, withImageSize } from '../../data/record-schema';

/** A dataset record that states its image size (nothing here opens the image); throws naming the field. */
export function recordFrom(value: unknown, where: string): DatasetRecord {
  const input = parseRecordInput(value);
  if (!input.ok) throw new Error(`${where}: ${input.reason}`);
  const { width, height } = input.record;
  if (width === undefined || height === undefined) {
    throw new Error(`${where}: field "${width === undefined ? 'width' : 'height'}": expected the image size in pixels, got nothing`);
  }
  const record = withImageSize(input.record, { width, height });
  if (!record.ok) throw new Error(`${where}: ${record.reason}`);
  return record.record;
}

/** The reward part of a run config (`rewards:` in YAML) as the scorer's RewardConfig; missing fields take the defaults. */
export function rewardConfigFrom(value: unknown, where: string): RewardConfig {
  if (value === undefined) return DEFAULT_REWARD_CONFIG;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${where}: expected an object of reward weights and settings`);
  const v = value as Record<string, unknown>;
  const allowed = [...REWARD_TERMS, 'highQualityMinIoU', 'consistencyAlpha'];
  const unknown = Object.keys(v).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw new Error(`${where}.${unknown}: not a reward setting (expected one of ${allowed.join(', ')})`);
  const weights = { ...DEFAULT_REWARD_CONFIG.weights };
  for (const term of REWARD_TERMS) if (v[term] !== undefined) weights[term] = v[term] as number;
  try {
    return validateRewardConfig({
      ...DEFAULT_REWARD_CONFIG,
      weights,
      highQuality: { minIoU: (v.highQualityMinIoU as number | undefined) ?? DEFAULT_REWARD_CONFIG.highQuality.minIoU },
      consistencyAlpha: (v.consistencyAlpha as number | undefined) ?? DEFAULT_REWARD_CONFIG.consistencyAlpha,
    });
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}

export interface TraceScore {
  record: string;
  stream: Stream;
  convention: CoordConvention;
  answer: string | null;
  correct: boolean;
  boxes: Box[];
  toolCalls: Array<{ name: string; box: Box | null }>;
  problems: Array<{ code: string; message: string }>;
  terms: RewardBreakdown;
  total: number;
  highQuality?: boolean;
  references?: Array<{ index: number; highQuality: boolean; correct: boolean; grounding: number }>;
}

function problemsOf(problems: readonly FormatProblem[]): Array<{ code: string; message: string }> {
  return problems.map((p) => ({ code: p.code, message: p.message }));
}

/** One trace: grounded, or textual with the grounded texts whose high-quality ones are its references. */
export function scoreTrace(req: {
  record: DatasetRecord;
  stream: Stream;
  convention: CoordConvention;
  text: string;
  references: readonly string[];
  config: RewardConfig;
}): TraceScore {
  const { record, stream, convention, text, config } = req;
  const parseOpts: ParseOptions = { convention, original: { width: record.width, height: record.height } };
  const parse = parseTrace(text, parseOpts);
  const base = { record: record.id, stream, convention };
  const tail = (result: { answer: string | null; correct: boolean; boxes: Box[]; rewards: RewardBreakdown; total: number }) => ({
    answer: result.answer,
    correct: result.correct,
    boxes: result.boxes,
    toolCalls: parse.toolCalls.map((t) => ({ name: t.name, box: t.box })),
    problems: problemsOf(parse.problems),
    terms: result.rewards,
    total: result.total,
  });
  if (stream === 'grounded') {
    const result = scoreGrounded(parse, record, config);
    return { ...base, ...tail(result), highQuality: result.highQuality === true };
  }
  const refs: ConsistencyReference[] = [];
  const report: NonNullable<TraceScore['references']> = [];
  req.references.forEach((refText, index) => {
    const g = scoreGrounded(parseTrace(refText, parseOpts), record, config);
    report.push({ index, highQuality: g.highQuality === true, correct: g.correct, grounding: g.rewards.grounding?.value ?? 0 });
    if (g.highQuality) refs.push({ id: `reference-${index}`, answer: g.answer, boxes: g.boxes });
  });
  return { ...base, ...tail(scoreTextual(parse, text, record, refs, config)), references: report };
}

export interface GroupSampleScore {
  answer: string | null;
  correct: boolean;
  boxes: Box[];
  problems: Array<{ code: string; message: string }>;
  terms: RewardBreakdown;
  total: number;
  /** Terms of this stream, in the order of REWARD_TERMS. */
  applies: RewardTerm[];
  /** Grounded: whether it is a consistency reference of the question's textual group. */
  highQuality?: boolean;
  /** Textual: indices into the grounded group of the references used. */
  references?: number[];
}

function groupSample(s: ScoredSample, groundedIds: readonly string[]): GroupSampleScore {
  return {
    answer: s.answer,
    correct: s.correct,
    boxes: s.boxes,
    problems: problemsOf(s.parse.problems),
    terms: s.rewards,
    total: s.total,
    applies: REWARD_TERMS.filter((t) => s.rewards[t] !== undefined),
    ...(s.stream === 'grounded'
      ? { highQuality: s.highQuality === true }
      : { references: (s.references ?? []).map((id) => groundedIds.indexOf(id)) }),
  };
}

/** One question's grounded and textual groups, scored as the trainer scores a step (advantages left to the caller). */
export function scoreGroups(req: {
  record: DatasetRecord;
  convention: CoordConvention;
  grounded: readonly string[];
  textual: readonly string[];
  config: RewardConfig;
}): { grounded: GroupSampleScore[]; textual: GroupSampleScore[] } {
  const parseOpts: ParseOptions = { convention: req.convention, original: { width: req.record.width, height: req.record.height } };
  const gIds = req.grounded.map((_, i) => `g${i}`);
  const scored = scoreQuestion(
    req.record,
    req.grounded.map((text, i) => ({ rolloutId: gIds[i]!, text })),
    req.textual.map((text, i) => ({ rolloutId: `t${i}`, text })),
    req.config,
    parseOpts,
    DEFAULT_ADVANTAGE_OPTIONS,
  );
  const out = scored.map((s) => groupSample(s, gIds));
  return { grounded: out.slice(0, req.grounded.length), textual: out.slice(req.grounded.length) };
}
