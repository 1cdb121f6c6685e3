import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracyReward,
  consistencyReward,
  DEFAULT_REWARD_CONFIG,
  formatReward,
  groundingReward,
  localisationAgreement,
  parseWeightSpec,
  toolReward,
  totalReward,
  validateRewardConfig,
  type ConsistencyReference,
  type RewardConfig,
} from '../../src/core/rewards';
import type { Box, ParseResult, ToolCall } from '../../src/core/types';

function parse(p: Partial<ParseResult> = {}): ParseResult {
  return { segments: [], think: 'I look at the sign.', answerText: 'B', boxes: [], toolCalls: [], problems: [], ...p };
}

const size = { width: 900, height: 600 };
const evidence: Box[] = [[800, 20, 880, 90]];

test('accuracy is 1 only for a matching answer, with options normalised', () => {
  const record = { answer: 'B', options: ['red', 'blue', 'green'] };
  assert.equal(accuracyReward(parse({ answerText: '(B) blue' }), record).value, 1);
  assert.equal(accuracyReward(parse({ answerText: 'blue' }), record).value, 1);
  assert.equal(accuracyReward(parse({ answerText: 'A' }), record).value, 0);
  const missing = accuracyReward(parse({ answerText: null }), record);
  assert.equal(missing.value, 0);
  assert.match(missing.explanation, /no answer/);
});

test('format: a well-formed trace of each stream scores 1', () => {
  assert.equal(formatReward(parse({ boxes: evidence }), 'grounded').value, 1);
  assert.equal(formatReward(parse(), 'textual').value, 1);
});

test('format: stream rules penalise a grounded trace without boxes and a textual one with boxes or tools', () => {
  const g = formatReward(parse(), 'grounded');
  assert.equal(g.value, 0.5);
  assert.match(g.explanation, /cites no box/);
  const t = formatReward(parse({ boxes: evidence }), 'textual');
  assert.equal(t.value, 0.5);
  assert.match(t.explanation, /1 box/);
  const tool: ToolCall = { name: 'zoom', box: evidence[0]!, span: { start: 0, end: 5 } };
  assert.equal(formatReward(parse({ toolCalls: [tool] }), 'textual').value, 0.5);
});

test('format: missing think and answer, other problems capped, floored at 0', () => {
  assert.equal(formatReward(parse({ think: null }), 'textual').value, 0.75);
  assert.equal(formatReward(parse({ answerText: null }), 'textual').value, 0.5);
  const problems = Array.from({ length: 5 }, (_, i) => ({ code: 'bad-box', message: `box ${i}` }));
  const many = formatReward(parse({ problems }), 'textual');
  assert.ok(Math.abs(many.value - 0.7) < 1e-12);
  assert.match(many.explanation, /5 format problem\(s\): bad-box/);
  assert.equal(formatReward(parse({ think: null, answerText: null, problems }), 'grounded').value, 0);
});

test('grounding: exact box 1, extra boxes dilute, no box or no evidence 0', () => {
  assert.equal(groundingReward(evidence, evidence).value, 1);
  assert.equal(groundingReward([evidence[0]!, [0, 0, 50, 50]], evidence).value, 0.5);
  assert.equal(groundingReward([], evidence).value, 0);
  assert.match(groundingReward(evidence, []).explanation, /no ground-truth evidence/);
  const half = groundingReward([[800, 20, 840, 90]], evidence).value;
  assert.ok(Math.abs(half - 0.5) < 1e-12);
  const twoGt: Box[] = [evidence[0]!, [10, 10, 60, 60]];
  assert.equal(groundingReward([evidence[0]!], twoGt).value, 0.5);
});

test('grounding: citing the same region again is not an extra box', () => {
  const again = groundingReward([evidence[0]!, [801, 21, 880, 90], evidence[0]!], evidence);
  assert.ok(again.value > 0.99, `got ${again.value}`);
  assert.match(again.explanation, /1 distinct box\(es\) \(\+2 repeated\)/);
});

const refs: ConsistencyReference[] = [
  { id: 'g1', answer: 'B', boxes: evidence },
  { id: 'g2', answer: '(B)', boxes: [[790, 10, 890, 100]] },
];

test('localisation: naming the referenced cell scores 1, naming every cell little, nothing 0', () => {
  assert.equal(localisationAgreement('The sign near the top-right corner is blue.', refs, size).value, 1);
  const everywhere =
    'I scanned the upper left, the top middle, the upper right, the left middle, the center, the right middle, the lower left, the bottom center and the lower right.';
  const low = localisationAgreement(everywhere, refs, size).value;
  assert.ok(low > 0 && low < 0.2, `got ${low}`);
  assert.equal(localisationAgreement('The sign near the bottom-left corner.', refs, size).value, 0);
  assert.deepEqual(localisationAgreement('No place is named.', refs, size), { value: 0, phrases: 0 });
});

test('consistency mixes answer and localisation agreement with alpha', () => {
  const good = parse({ think: 'The sign near the top-right corner is blue.', answerText: 'B' });
  assert.equal(consistencyReward(good, refs, size, { alpha: 0.5 }).value, 1);
  const wrongPlace = parse({ think: 'The sign at the bottom is blue.', answerText: 'B' });
  assert.equal(consistencyReward(wrongPlace, refs, size, { alpha: 0.5 }).value, 0.5);
  const wrongAnswer = parse({ think: 'The sign near the top-right corner is blue.', answerText: 'C' });
  assert.equal(consistencyReward(wrongAnswer, refs, size, { alpha: 0.3 }).value, 0.7);
  const none = consistencyReward(good, [], size);
  assert.equal(none.value, 0);
  assert.match(none.explanation, /no high-quality grounded trace/);
});

test('consistency reads reasoning outside <think> from the raw text', () => {
  const text = 'The sign near the top-right corner is blue. <answer>B</answer>';
  const p = parse({
    think: null,
    segments: [
      { kind: 'text', span: { start: 0, end: 44 }, region: 'other' },
      { kind: 'text', span: { start: 52, end: 53 }, region: 'answer' },
    ],
  });
  assert.equal(consistencyReward(p, refs, size, { alpha: 0, text }).value, 1);
  assert.equal(consistencyReward(p, refs, size, { alpha: 0 }).value, 0);
});

test('tool reward pays only for a correct answer after a zoom on the evidence', () => {
  const on: ToolCall = { name: 'zoom_in', box: [790, 10, 890, 100], span: { start: 0, end: 1 } };
  const off: ToolCall = { name: 'zoom_in', box: [0, 0, 100, 100], span: { start: 0, end: 1 } };
  const whole: ToolCall = { name: 'zoom_in', box: [0, 0, 900, 600], span: { start: 0, end: 1 } };
  const wide: ToolCall = { name: 'zoom_in', box: [700, 0, 900, 200], span: { start: 0, end: 1 } };
  assert.equal(toolReward([on], evidence, true).value, 1);
  assert.equal(toolReward([on], evidence, false).value, 0);
  assert.equal(toolReward([off], evidence, true).value, 0);
  assert.equal(toolReward([whole], evidence, true).value, 0, 'zooming the whole image is no zoom');
  assert.equal(toolReward([wide], evidence, true).value, 1, 'a zoom a little wider than the object counts');
  assert.equal(toolReward([], evidence, true).value, 0);
  assert.equal(toolReward([{ ...on, box: null }], evidence, true).value, 0);
  assert.equal(toolReward([off], [], true).value, 1);
});

test('total is the weighted sum of the breakdown', () => {
  assert.equal(
    totalReward({
      accuracy: { value: 1, weight: 1, explanation: '' },
      format: { value: 0.5, weight: 0.5, explanation: '' },
      consistency: { value: 0.8, weight: 0, explanation: '' },
    }),
    1.25,
  );
});

test('config validation names the offending field', () => {
  assert.equal(validateRewardConfig(DEFAULT_REWARD_CONFIG), DEFAULT_REWARD_CONFIG);
  const bad = (patch: Partial<RewardConfig>): RewardConfig => ({ ...DEFAULT_REWARD_CONFIG, ...patch });
  assert.throws(
    () => validateRewardConfig(bad({ weights: { ...DEFAULT_REWARD_CONFIG.weights, format: -1 } })),
    /weights\.format must be a finite number >= 0, got -1/,
  );
  assert.throws(() => validateRewardConfig(bad({ weights: { ...DEFAULT_REWARD_CONFIG.weights, tool: NaN } })), /weights\.tool/);
  assert.throws(() => validateRewardConfig(bad({ consistencyAlpha: 1.5 })), /consistencyAlpha must be a number in \[0, 1\]/);
  assert.throws(() => validateRewardConfig(bad({ highQuality: { minIoU: -0.1 } })), /highQuality\.minIoU/);
});

test('weight specs parse and reject unknown terms or bad numbers', () => {
  assert.deepEqual(parseWeightSpec('accuracy=1, format=0.5,consistency=0'), { accuracy: 1, format: 0.5, consistency: 0 });
  assert.throws(() => parseWeightSpec('accurcy=1'), /'accurcy' is not a reward term/);
  assert.throws(() => parseWeightSpec('format=-2'), /weights\.format must be a finite number >= 0/);
  assert.throws(() => parseWeightSpec('format'), /'format' is not term=value/);
});
