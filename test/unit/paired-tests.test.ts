import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consistencyFiring, mcnemarExact, pairedTest } from '../../src/core/paired-tests';
import type { EvalRecord, RolloutRecord } from '../../src/core/types';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('McNemar exact p-values match the binomial tail', () => {
  // 10 vs 2 discordant: 2 * (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 158 / 4096
  close(mcnemarExact(10, 2), 158 / 4096);
  close(mcnemarExact(2, 10), 158 / 4096);
  assert.equal(mcnemarExact(5, 5), 1);
  assert.equal(mcnemarExact(0, 0), 1);
  // Large counts stay finite and tiny: 300 vs 100 discordant.
  const p = mcnemarExact(300, 100);
  assert.ok(p > 0 && p < 1e-20, String(p));
});

const evalRecord = (checkpoint: string, promptId: string, correct: boolean, over: Partial<EvalRecord> = {}): EvalRecord => ({
  v: 1,
  id: `${checkpoint}-${promptId}`,
  mode: 'textual',
  checkpoint,
  engine: 'torch',
  split: 'test',
  promptId,
  question: 'q',
  output: '',
  answer: null,
  expected: 'A',
  correct,
  boxes: [],
  evidence: [],
  iou: null,
  toolCalls: 0,
  time: 0,
  ...over,
});

test('paired test counts only questions both checkpoints answered, by their latest record', () => {
  const records = [
    evalRecord('ivgr', 'q1', true),
    evalRecord('sft', 'q1', false),
    evalRecord('ivgr', 'q2', false),
    evalRecord('sft', 'q2', false),
    evalRecord('ivgr', 'q3', false),
    evalRecord('ivgr', 'q3', true),
    evalRecord('sft', 'q3', true),
    evalRecord('ivgr', 'q4', true),
    evalRecord('sft', 'q1', true, { mode: 'grounded' }),
  ];
  const t = pairedTest(records, 'ivgr', 'sft', 'textual');
  assert.ok(t);
  assert.equal(t.n, 3);
  assert.equal(t.onlyA, 1);
  assert.equal(t.onlyB, 0);
  close(t.accuracyA, 2 / 3);
  close(t.accuracyB, 1 / 3);
  assert.equal(t.p, 1);
  assert.equal(pairedTest(records, 'ivgr', 'nothing', 'textual'), null);
});

const rollout = (step: number, promptId: string, stream: 'textual' | 'grounded', references?: string[]): RolloutRecord => ({
  v: 1,
  id: `${step}-${promptId}-${stream}-${Math.random()}`,
  step,
  stream,
  promptId,
  sample: 0,
  input: '',
  output: '',
  score: 0,
  answer: null,
  correct: false,
  boxes: [],
  rewards: {},
  advantage: 0,
  ...(references ? { references } : {}),
  tokens: { prompt: 1, completion: 1 },
  finish: 'stop',
  time: 0,
});

test('consistency firing rate is per RL question (step x prompt) of the textual stream', () => {
  const f = consistencyFiring([
    rollout(1, 'a', 'textual', ['g1']),
    rollout(1, 'a', 'textual', ['g1']),
    rollout(1, 'b', 'textual', []),
    rollout(1, 'b', 'grounded'),
    rollout(2, 'a', 'textual'),
    rollout(2, 'c', 'textual', ['g7']),
  ]);
  assert.deepEqual(f, { questions: 4, fired: 2, rate: 0.5 });
  assert.deepEqual(consistencyFiring([]), { questions: 0, fired: 0, rate: 0 });
});
