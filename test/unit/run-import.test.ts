import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertRows, parseDumpLine } from '../../src/run/import-dump';

test('verl lines keep input/output/score/step and get group advantages per (step, prompt)', () => {
  const rows = [
    { input: 'Q1', output: '<think>a</think><answer>A</answer>', score: 1, step: 1 },
    { input: 'Q1', output: '<think>b</think><answer>B</answer>', score: 0, step: 1 },
    { input: 'Q2', output: 'look <box>[1,2,3,4]</box>', score: 0.5, step: 2 },
  ].map((o, i) => parseDumpLine(o, i + 1, 'd.jsonl'));
  assert.ok(rows.every((r) => r.format === 'verl'));
  const { rollouts, metrics } = convertRows(
    rows.map((r) => r.row),
    0,
  );
  assert.equal(rollouts.length, 3);
  assert.ok(rollouts[0]!.advantage > 0 && rollouts[1]!.advantage < 0);
  assert.equal(rollouts[0]!.answer, 'A');
  assert.equal(rollouts[2]!.stream, 'grounded');
  assert.deepEqual(
    metrics.map((m) => m.step),
    [1, 2],
  );
});

test('TRL completions rows map reward columns to terms and keep their advantage', () => {
  const { row, format } = parseDumpLine(
    { step: 5, prompt: [{ role: 'user', content: 'hi' }], completion: 'x', accuracy_reward: 1, format_reward: 0.5, advantage: 0.7 },
    1,
    't.jsonl',
  );
  assert.equal(format, 'trl');
  assert.equal(row.score, 1.5);
  assert.equal(row.input, 'user: hi');
  const { rollouts } = convertRows([row], 0);
  assert.equal(rollouts[0]!.advantage, 0.7);
  assert.equal(rollouts[0]!.rewards.format?.value, 0.5);
});

test('a line without a known layout is named with its line number', () => {
  assert.throws(() => parseDumpLine({ foo: 1 }, 7, 'd.jsonl'), /d\.jsonl:7: expected verl fields/);
  assert.throws(() => parseDumpLine({ output: 'x', step: 1 }, 3, 'd.jsonl'), /d\.jsonl:3: no reward/);
});
