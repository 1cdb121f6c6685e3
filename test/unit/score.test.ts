import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreQuestion } from '../../src/core/score';
import { DEFAULT_REWARD_CONFIG, type RewardConfig } from '../../src/core/rewards';
import { DEFAULT_ADVANTAGE_OPTIONS } from '../../src/core/advantages';
import type { DatasetRecord, ParseOptions } from '../../src/core/types';

const record: DatasetRecord = {
  id: 'q1',
  image: 'img/q1.png',
  width: 900,
  height: 600,
  question: 'What colour is the sign?',
  options: ['red', 'blue', 'green'],
  answer: 'B',
  evidence: [[800, 20, 880, 90]],
};
const parseOpts: ParseOptions = { convention: 'pixels', original: { width: 900, height: 600 } };

const grounded = [
  { rolloutId: 'g-good', text: '<think>The sign <box>[800,20,880,90]</box> is blue.</think><answer>B</answer>' },
  { rolloutId: 'g-offtarget', text: '<think>The sign <box>[0,0,80,70]</box> is blue.</think><answer>B</answer>' },
  { rolloutId: 'g-wrong', text: '<think>The sign <box>[800,20,880,90]</box> is red.</think><answer>A</answer>' },
];
const textual = [
  { rolloutId: 't-place', text: '<think>The sign near the top-right corner is blue.</think><answer>B</answer>' },
  { rolloutId: 't-noplace', text: '<think>The sign is blue.</think><answer>B</answer>' },
  { rolloutId: 't-wrong', text: '<think>The sign at the bottom is red.</think><answer>A</answer>' },
];

test('only correct, well-grounded grounded traces become references for the textual stream', () => {
  const out = scoreQuestion(record, grounded, textual, DEFAULT_REWARD_CONFIG, parseOpts, DEFAULT_ADVANTAGE_OPTIONS);
  assert.deepEqual(
    out.map((s) => [s.rolloutId, s.stream]),
    [
      ['g-good', 'grounded'],
      ['g-offtarget', 'grounded'],
      ['g-wrong', 'grounded'],
      ['t-place', 'textual'],
      ['t-noplace', 'textual'],
      ['t-wrong', 'textual'],
    ],
  );
  assert.deepEqual(
    out.slice(0, 3).map((s) => s.highQuality),
    [true, false, false],
  );
  for (const t of out.slice(3)) assert.deepEqual(t.references, ['g-good']);
  const [place, noplace, wrong] = out.slice(3).map((s) => s.rewards.consistency!.value);
  assert.equal(place, 1);
  assert.equal(noplace, 0.5);
  assert.equal(wrong, 0);
});

test('totals are weighted sums and advantages are normalised within each stream group', () => {
  const out = scoreQuestion(record, grounded, textual, DEFAULT_REWARD_CONFIG, parseOpts, DEFAULT_ADVANTAGE_OPTIONS);
  for (const s of out) {
    const sum = Object.values(s.rewards).reduce((acc, r) => acc + r.value * r.weight, 0);
    assert.ok(Math.abs(s.total - sum) < 1e-12);
  }
  for (const stream of ['grounded', 'textual'] as const) {
    const group = out.filter((s) => s.stream === stream);
    assert.ok(Math.abs(group.reduce((a, s) => a + s.advantage, 0)) < 1e-9, `${stream} advantages sum to 0`);
  }
  const t = out.filter((s) => s.stream === 'textual');
  assert.ok(t[0]!.advantage > t[1]!.advantage && t[1]!.advantage > t[2]!.advantage);
  assert.deepEqual(Object.keys(out[0]!.rewards).sort(), ['accuracy', 'format', 'grounding', 'tool']);
  assert.deepEqual(Object.keys(out[3]!.rewards).sort(), ['accuracy', 'consistency', 'format']);
});

test('consistency weight 0 (dual-stream baseline) keeps the term in the breakdown but out of the total', () => {
  const baseline: RewardConfig = { ...DEFAULT_REWARD_CONFIG, weights: { ...DEFAULT_REWARD_CONFIG.weights, consistency: 0 } };
  const out = scoreQuestion(record, grounded, textual, baseline, parseOpts, DEFAULT_ADVANTAGE_OPTIONS);
  const [place, noplace] = out.filter((s) => s.stream === 'textual');
  assert.equal(place!.rewards.consistency!.value, 1);
  assert.equal(place!.rewards.consistency!.weight, 0);
  assert.equal(place!.total, noplace!.total);
  assert.equal(place!.advantage, noplace!.advantage);
});

test('without any high-quality grounded trace the textual stream gets no consistency signal', () => {
  const out = scoreQuestion(record, [grounded[2]!], textual, DEFAULT_REWARD_CONFIG, parseOpts, DEFAULT_ADVANTAGE_OPTIONS);
  const t = out.filter((s) => s.stream === 'textual');
  assert.ok(t.every((s) => s.rewards.consistency!.value === 0 && s.references!.length === 0));
  assert.equal(out[0]!.advantage, 0, 'a group of one has no advantage');
});
