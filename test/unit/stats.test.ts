import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mean, summarizeEval, wilsonInterval } from '../../src/core/stats';
import type { EvalRecord } from '../../src/core/types';

const close = (a: number, b: number, tol = 1e-4): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('Wilson interval matches reference values', () => {
  // 8/10 at 95%: [0.4902, 0.9433] (standard tables)
  const ci = wilsonInterval(8, 10);
  close(ci.low, 0.4902);
  close(ci.high, 0.9433);
  const zero = wilsonInterval(0, 20);
  assert.equal(zero.low, 0);
  close(zero.high, 0.1611);
  const all = wilsonInterval(20, 20);
  close(all.low, 0.8389);
  assert.equal(all.high, 1);
  assert.deepEqual(wilsonInterval(0, 0), { low: 0, high: 1 });
});

test('Wilson interval rejects impossible counts', () => {
  assert.throws(() => wilsonInterval(5, 3), /successes must be an integer in \[0, n=3\], got 5/);
  assert.throws(() => wilsonInterval(1, -1), /n must be a non-negative integer/);
});

test('mean of nothing is NaN', () => {
  assert.equal(mean([2, 4]), 3);
  assert.ok(Number.isNaN(mean([])));
});

function rec(p: Partial<EvalRecord>): EvalRecord {
  return {
    v: 1,
    id: 'x',
    mode: 'textual',
    checkpoint: '10',
    engine: 'torch',
    split: 'test',
    promptId: 'p',
    question: 'q',
    output: '',
    answer: 'A',
    expected: 'A',
    correct: true,
    boxes: [],
    evidence: [],
    iou: null,
    toolCalls: 0,
    time: 0,
    ...p,
  };
}

test('summarizeEval groups by checkpoint, mode and engine in a stable order', () => {
  const rows = summarizeEval([
    rec({ checkpoint: '100', promptId: 'a' }),
    rec({ checkpoint: '20', mode: 'grounded', promptId: 'a', iou: 0.7 }),
    rec({ checkpoint: '20', mode: 'grounded', promptId: 'b', iou: 0.3, correct: false }),
    rec({ checkpoint: '20', mode: 'grounded', promptId: 'c', iou: null }),
    rec({ checkpoint: '20', mode: 'textual', promptId: 'a', correct: false }),
  ]);
  assert.deepEqual(
    rows.map((r) => [r.checkpoint, r.mode, r.n]),
    [
      ['20', 'textual', 1],
      ['20', 'grounded', 3],
      ['100', 'textual', 1],
    ],
  );
  const g = rows[1]!;
  close(g.accuracy, 2 / 3);
  close(g.meanIou!, 0.5);
  assert.equal(g.hitRate, 0.5);
  const ci = wilsonInterval(2, 3);
  assert.equal(g.ciLow, ci.low);
  assert.equal(g.ciHigh, ci.high);
  assert.equal(rows[0]!.meanIou, null);
  assert.equal(rows[0]!.hitRate, null);
});

test('a sample evaluated twice counts once, by its latest record', () => {
  const rows = summarizeEval([rec({ promptId: 'a', correct: false }), rec({ promptId: 'a', correct: true })]);
  assert.equal(rows[0]!.n, 1);
  assert.equal(rows[0]!.accuracy, 1);
});

test('summarizeEval keeps an evaluation of one dataset apart from the full one of the same checkpoint; records without a dataset read as before', () => {
  const rows = summarizeEval([
    rec({ checkpoint: 'sft', promptId: 'one/a', dataset: 'one', correct: false }),
    rec({ checkpoint: 'sft', promptId: 'one/a' }),
    rec({ checkpoint: 'sft', promptId: 'two/a' }),
    rec({ checkpoint: 'sft', promptId: 'two/a', dataset: 'two' }),
    rec({ checkpoint: 'sft', promptId: 'two/b', dataset: 'two', correct: false }),
  ]);
  assert.deepEqual(
    rows.map((r) => [r.checkpoint, r.dataset, r.n, r.accuracy]),
    [
      ['sft', undefined, 2, 1],
      ['sft', 'one', 1, 0],
      ['sft', 'two', 2, 0.5],
    ],
  );
  assert.ok(!('dataset' in rows[0]!), 'the full evaluation row has no dataset field, like an old one');
});
