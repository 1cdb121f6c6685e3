/**
 * iVGR scoring of one question: both stream groups are parsed and rewarded,
 * the high-quality grounded traces become the textual stream's consistency
 * references, and GRPO advantages are computed per stream group.
 */
import { groupAdvantages, type AdvantageOptions } from './advantages';
import {
  accuracyReward,
  consistencyReward,
  formatReward,
  groundingReward,
  toolReward,
  totalReward,
  type ConsistencyReference,
  type RewardConfig,
  type RewardResult,
} from './rewards';
import { parseTrace } from './trace';
import type { Box, DatasetRecord, ParseOptions, ParseResult, RewardBreakdown, RewardTerm, Stream } from './types';

export interface StreamSample {
  rolloutId: string;
  text: string;
}

export interface ScoredSample {
  rolloutId: string;
  stream: Stream;
  parse: ParseResult;
  answer: string | null;
  correct: boolean;
  boxes: Box[];
  rewards: RewardBreakdown;
  total: number;
  advantage: number;
  /** Textual stream: ids of the grounded traces used as consistency references. */
  references?: string[];
  /** Grounded stream: whether this trace served as a consistency reference. */
  highQuality?: boolean;
}

/** A trace scored on its own, before advantages (which need the whole group). */
export type SampleScore = Omit<ScoredSample, 'rolloutId' | 'advantage'>;

function term(breakdown: RewardBreakdown, name: RewardTerm, config: RewardConfig, r: RewardResult): void {
  breakdown[name] = { value: r.value, weight: config.weights[name], explanation: r.explanation };
}

/** Scores one grounded-stream trace: accuracy, format, grounding, tool. */
export function scoreGrounded(parse: ParseResult, record: DatasetRecord, config: RewardConfig): SampleScore {
  const accuracy = accuracyReward(parse, record);
  const correct = accuracy.value === 1;
  const rewards: RewardBreakdown = {};
  term(rewards, 'accuracy', config, accuracy);
  term(rewards, 'format', config, formatReward(parse, 'grounded'));
  const grounding = groundingReward(parse.boxes, record.evidence);
  term(rewards, 'grounding', config, grounding);
  term(rewards, 'tool', config, toolReward(parse.toolCalls, record.evidence, correct, config.tool));
  return {
    stream: 'grounded',
    parse,
    answer: parse.answerText,
    correct,
    boxes: parse.boxes,
    rewards,
    total: totalReward(rewards),
    highQuality: isHighQuality(correct, grounding.value, parse.boxes.length, record.evidence.length, config),
  };
}

/**
 * A grounded trace is a consistency reference when its answer is correct and
 * its grounding reward reaches `highQuality.minIoU`. Without evidence boxes
 * grounding cannot be measured, so a correct trace citing at least one box
 * qualifies.
 */
export function isHighQuality(correct: boolean, grounding: number, boxes: number, evidence: number, config: RewardConfig): boolean {
  if (!correct || boxes === 0) return false;
  return evidence === 0 || grounding >= config.highQuality.minIoU;
}

/** Scores one textual-stream trace: accuracy, format, consistency with the given references. */
export function scoreTextual(
  parse: ParseResult,
  text: string,
  record: DatasetRecord,
  references: readonly ConsistencyReference[],
  config: RewardConfig,
): SampleScore {
  const accuracy = accuracyReward(parse, record);
  const rewards: RewardBreakdown = {};
  term(rewards, 'accuracy', config, accuracy);
  term(rewards, 'format', config, formatReward(parse, 'textual'));
  term(
    rewards,
    'consistency',
    config,
    consistencyReward(
      parse,
      references,
      { width: record.width, height: record.height },
      { alpha: config.consistencyAlpha, options: record.options, text },
    ),
  );
  return {
    stream: 'textual',
    parse,
    answer: parse.answerText,
    correct: accuracy.value === 1,
    boxes: parse.boxes,
    rewards,
    total: totalReward(rewards),
    references: references.map((r) => r.id),
  };
}

function withAdvantages(samples: Array<SampleScore & { rolloutId: string }>, opts: AdvantageOptions): ScoredSample[] {
  const adv = groupAdvantages(
    samples.map((s) => s.total),
    opts,
  );
  return samples.map((s, i) => ({ ...s, advantage: adv[i] ?? 0 }));
}

/**
 * Scores one question's grounded and textual groups. Grounded traces are
 * scored first; the high-quality ones are the references for every textual
 * trace's consistency term; advantages are computed within each stream group
 * separately, so the two streams never compete with each other. Returns the
 * grounded samples, then the textual ones, each in input order.
 */
export function scoreQuestion(
  record: DatasetRecord,
  grounded: StreamSample[],
  textual: StreamSample[],
  config: RewardConfig,
  parseOpts: ParseOptions,
  advantageOpts: AdvantageOptions,
): ScoredSample[] {
  const g = grounded.map((s) => ({ rolloutId: s.rolloutId, ...scoreGrounded(parseTrace(s.text, parseOpts), record, config) }));
  const references: ConsistencyReference[] = g
    .filter((s) => s.highQuality === true)
    .map((s) => ({ id: s.rolloutId, answer: s.answer, boxes: s.boxes }));
  const t = textual.map((s) => ({
    rolloutId: s.rolloutId,
    ...scoreTextual(parseTrace(s.text, parseOpts), s.text, record, references, config),
  }));
  return [...withAdvantages(g, advantageOpts), ...withAdvantages(t, advantageOpts)];
}
