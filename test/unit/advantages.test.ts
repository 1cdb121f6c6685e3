import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { batchStats, groupAdvantages } from '../../src/core/advantages';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('std normalisation uses the sample std (n - 1) like torch.std in TRL and verl', () => {
  // rewards 0, 1: mean 0.5, sample std sqrt(0.5)
  const adv = groupAdvantages([0, 1], { normalize: 'std', epsilon: 0 });
  close(adv[0]!, -0.5 / Math.SQRT1_2);
  close(adv[1]!, 0.5 / Math.SQRT1_2);
  const pop = groupAdvantages([0, 1], { normalize: 'std', epsilon: 0, std: 'population' });
  assert.deepEqual(pop, [-1, 1]);
});

test('mean-only subtracts the group mean', () => {
  assert.deepEqual(groupAdvantages([1, 2, 3, 6], { normalize: 'mean-only', epsilon: 1e-6 }), [-2, -1, 0, 3]);
});

test('zero-variance groups and singletons give zero advantages', () => {
  assert.deepEqual(groupAdvantages([0.7, 0.7, 0.7], { normalize: 'std', epsilon: 1e-6 }), [0, 0, 0]);
  assert.deepEqual(groupAdvantages([1], { normalize: 'std', epsilon: 1e-6 }), [0]);
  assert.deepEqual(groupAdvantages([], { normalize: 'std', epsilon: 1e-6 }), []);
});

test('advantages sum to zero and keep the reward order', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 2, maxLength: 16 }), (rewards) => {
      const adv = groupAdvantages(rewards, { normalize: 'std', epsilon: 1e-6 });
      close(
        adv.reduce((s, a) => s + a, 0),
        0,
        1e-6,
      );
      for (let i = 0; i < rewards.length; i++) {
        for (let j = 0; j < rewards.length; j++) if (rewards[i]! < rewards[j]!) assert.ok(adv[i]! <= adv[j]!);
      }
    }),
  );
});

test('non-finite rewards are rejected with their index', () => {
  assert.throws(() => groupAdvantages([1, NaN], { normalize: 'std', epsilon: 1e-6 }), /reward 1 is not a finite number/);
});

test('batchStats summarises values, empty batch has count 0', () => {
  assert.deepEqual(batchStats([1, 3]), { count: 2, mean: 2, std: 1, min: 1, max: 3 });
  assert.deepEqual(batchStats([]), { count: 0, mean: 0, std: 0, min: 0, max: 0 });
});
