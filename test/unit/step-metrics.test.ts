import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../src/worker/prng';
import { nextBatch } from '../../src/worker/data-cursor';
import { stepMetrics } from '../../src/core/step-metrics';
import type { RolloutRecord } from '../../src/core/types';

test('the PRNG continues identically from a saved state', () => {
  const a = Prng.fromSeed(42);
  for (let i = 0; i < 5; i++) a.nextU32();
  const b = Prng.fromState(a.state());
  assert.deepEqual(
    Array.from({ length: 10 }, () => a.nextU32()),
    Array.from({ length: 10 }, () => b.nextU32()),
  );
  assert.notDeepEqual(Prng.fromSeed(1).state(), Prng.fromSeed(2).state());
});

test('the PRNG is roughly uniform', () => {
  const r = Prng.fromSeed(3);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[r.int(4)]! += 1;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `bucket count ${c}`);
});

test('batches visit every question once per epoch and a resumed cursor continues the same sequence', () => {
  let cursor = { epoch: 0, index: 0 };
  const seen: number[] = [];
  const cursors = [];
  for (let s = 0; s < 5; s++) {
    const b = nextBatch(10, 4, 9, cursor);
    seen.push(...b.indices);
    cursor = b.cursor;
    cursors.push(cursor);
  }
  assert.deepEqual(
    seen.slice(0, 10).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    seen.slice(10, 20).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.notDeepEqual(seen.slice(0, 10), seen.slice(10, 20), 'each epoch has its own order');
  const resumed = nextBatch(10, 4, 9, cursors[2]!);
  assert.deepEqual(resumed.indices, seen.slice(12, 16));
});

test('step metrics average per stream and per term, and tokens/s uses generate time', () => {
  const r = (stream: 'grounded' | 'textual', score: number, correct: boolean, consistency?: number): RolloutRecord => ({
    v: 1,
    id: 'x',
    step: 1,
    stream,
    promptId: 'p',
    sample: 0,
    input: '',
    output: '',
    score,
    answer: 'A',
    correct,
    boxes: [],
    rewards: {
      accuracy: { value: correct ? 1 : 0, weight: 1, explanation: '' },
      ...(consistency === undefined ? {} : { consistency: { value: consistency, weight: 0.5, explanation: '' } }),
    },
    advantage: 0,
    tokens: { prompt: 10, completion: 20 },
    finish: 'stop',
    time: 0,
  });
  const m = stepMetrics([r('grounded', 1, true), r('grounded', 0, false), r('textual', 2, true, 0.5), r('textual', 1, true, 1)], {
    step: 1,
    time: 0,
    kl: 0.1,
    clipFraction: 0,
    loss: 0.3,
    gradNorm: 1,
    phases: { generate: 2 },
    highQualityGrounded: 1,
  });
  assert.equal(m.reward.grounded, 0.5);
  assert.equal(m.accuracy.textual, 1);
  assert.equal(m.terms.textual?.consistency, 0.75);
  assert.equal(m.terms.grounded?.consistency, undefined);
  assert.equal(m.tokensPerSecond, 40);
});
