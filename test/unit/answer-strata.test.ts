import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { answerStratum, interleaveStrata } from '../../src/core/answer-strata';
import { nextBatch } from '../../src/worker/data-cursor';
import { Prng } from '../../src/worker/prng';

test('a multiple-choice answer is keyed by its option text, whatever letter it sits under', () => {
  assert.equal(answerStratum({ answer: 'A', options: ['Left', 'right'] }), 'left');
  assert.equal(answerStratum({ answer: 'b', options: ['right', ' LEFT '] }), 'left');
  assert.equal(answerStratum({ answer: 'Red' }), 'red');
  assert.equal(answerStratum({ answer: 'E', options: ['a', 'b'] }), 'e', 'a letter past the options keys as itself');
});

test('interleaved strata: a permutation in which every prefix holds each stratum near its share', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 }), fc.integer(), (sizes, seed) => {
      let next = 0;
      const groups = sizes.map((n) => Array.from({ length: n }, () => next++));
      const stratumOf = groups.flatMap((g, s) => g.map(() => s));
      const rng = Prng.fromSeed(seed >>> 0);
      const order = interleaveStrata(groups, () => rng.next());
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        Array.from({ length: next }, (_, i) => i),
      );
      const seen = sizes.map(() => 0);
      order.forEach((item, t) => {
        seen[stratumOf[item]!]! += 1;
        sizes.forEach((n, s) => {
          const share = ((t + 1) * n) / next;
          assert.ok(Math.abs(seen[s]! - share) < 1 + (sizes.length * n) / next, `stratum ${s} after ${t + 1}`);
        });
      });
    }),
  );
});

test('answer-balanced batches: two answers split 24/8 come out 3:1 in every batch of four, and resume from a cursor', () => {
  const strata = Array.from({ length: 32 }, (_, i) => (i % 4 === 0 ? 'right' : 'left'));
  let cursor = { epoch: 0, index: 0 };
  const batches: number[][] = [];
  for (let s = 0; s < 8; s++) {
    const b = nextBatch(32, 4, 5, cursor, strata);
    batches.push(b.indices);
    cursor = b.cursor;
  }
  for (const b of batches) {
    const right = b.filter((i) => strata[i] === 'right').length;
    assert.ok(right >= 0 && right <= 2, `batch ${b.join(',')} holds ${right} 'right'`);
  }
  const perTwo = [0, 2, 4, 6].map((s) => [...batches[s]!, ...batches[s + 1]!].filter((i) => strata[i] === 'right').length);
  for (const n of perTwo) assert.ok(n >= 1 && n <= 3, `eight questions hold ${n} 'right'`);
  assert.deepEqual(
    batches.flat().sort((a, b) => a - b),
    Array.from({ length: 32 }, (_, i) => i),
    'an epoch still visits each question once',
  );
  assert.deepEqual(nextBatch(32, 4, 5, { epoch: 0, index: 12 }, strata).indices, batches[3]);
});
