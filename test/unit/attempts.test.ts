import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptTracker, LastAttempts, putLastOfStep, type AttemptRow } from '../../src/core/attempts';

const row = (step: number, promptId: string, sample: number, time: number): AttemptRow => ({
  step,
  stream: 'grounded',
  promptId,
  sample,
  time,
});

test('the charts keep one metrics line per step, the last attempt, in step order', () => {
  const list: { step: number; v: string }[] = [];
  for (const [step, v] of [
    [1, 'a'],
    [2, 'a'],
    [3, 'a'],
    [2, 'b'],
    [3, 'b'],
    [4, 'a'],
    [4, 'b'],
  ] as const)
    putLastOfStep(list, { step, v });
  assert.deepEqual(list, [
    { step: 1, v: 'a' },
    { step: 2, v: 'b' },
    { step: 3, v: 'b' },
    { step: 4, v: 'b' },
  ]);
});

test('a step starts again when it comes back after later steps, or when its first rollout comes back with a later time', () => {
  const t = new AttemptTracker();
  const seen = [row(1, 'q', 0, 10), row(1, 'q', 1, 10), row(2, 'q', 0, 20), row(1, 'q', 0, 30), row(1, 'q', 1, 30), row(1, 'q', 0, 40)].map(
    (r) => t.next(r),
  );
  assert.deepEqual(seen, [false, false, false, true, false, true]);
});

test('the same question twice in one step, or rows each with their own time, is one attempt', () => {
  const t = new AttemptTracker();
  assert.deepEqual(
    [row(3, 'q', 0, 5), row(3, 'r', 0, 5), row(3, 'q', 0, 5)].map((r) => t.next(r)),
    [false, false, false],
  );
  const u = new AttemptTracker();
  assert.deepEqual(
    [row(3, 'q', 0, 1), row(3, 'r', 0, 2), row(3, 'q', 0, 3)].map((r) => u.next(r)),
    [false, false, false],
  );
});

test('collecting the last attempts drops the kept rows of a replayed step only', () => {
  const last = new LastAttempts<AttemptRow>();
  for (const r of [row(1, 'q', 0, 1), row(2, 'q', 0, 2), row(3, 'q', 0, 3), row(2, 'q', 0, 4), row(3, 'q', 0, 5)])
    last.add(r, r.promptId === 'q');
  assert.deepEqual(
    last.records.map((r) => [r.step, r.time]),
    [
      [1, 1],
      [2, 4],
      [3, 5],
    ],
  );
});
