import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { answersMatch, normalizeChoice, normalizeFree } from '../../src/core/answers';

const options = ['red', 'green', 'blue', 'the yellow one'];

test('normalizeChoice reads the letter in the ways models write it', () => {
  const cases: Array<[string, string]> = [
    ['B', 'B'],
    ['b', 'B'],
    ['(B)', 'B'],
    ['B.', 'B'],
    ['B)', 'B'],
    ['B) green', 'B'],
    ['(B) green', 'B'],
    ['B: green', 'B'],
    ['[C]', 'C'],
    ['Answer: B', 'B'],
    ['answer:(b)', 'B'],
    ['The answer is B', 'B'],
    ['The answer is B because the sign is green.', 'B'],
    ['So the correct answer is (D).', 'D'],
    ['Final answer: **C**', 'C'],
    ['**B**', 'B'],
    ['  B  ', 'B'],
  ];
  for (const [text, letter] of cases) assert.equal(normalizeChoice(text, options), letter, JSON.stringify(text));
});

test('normalizeChoice maps option text to its letter when options are given', () => {
  assert.equal(normalizeChoice('green', options), 'B');
  assert.equal(normalizeChoice('Blue.', options), 'C');
  assert.equal(normalizeChoice('The answer is yellow one', options), 'D');
  assert.equal(normalizeChoice('green'), null);
  assert.equal(normalizeChoice('The answer is a dog', ['cat', 'dog']), 'B', 'an article is not option A');
});

test('normalizeChoice returns null for text that is not a choice', () => {
  assert.equal(normalizeChoice('A cat sits on the mat', options), null);
  assert.equal(normalizeChoice('purple', options), null);
  assert.equal(normalizeChoice('', options), null);
  assert.equal(normalizeChoice('Options are unclear'), null);
  assert.equal(normalizeChoice('E', options), null, 'letter beyond the options');
  assert.equal(normalizeChoice('E'), 'E', 'any letter without options');
});

test('normalizeFree folds case, punctuation, articles, whitespace and numbers', () => {
  assert.equal(normalizeFree('  The Red   Car. '), 'red car');
  assert.equal(normalizeFree('three'), '3');
  assert.equal(normalizeFree('Twenty one'), '21');
  assert.equal(normalizeFree('twenty-one'), '21');
  assert.equal(normalizeFree('3.0'), '3');
  assert.equal(normalizeFree('3.50'), '3.5');
  assert.equal(normalizeFree('1,000'), '1000');
  assert.equal(normalizeFree('"an apple"'), 'apple');
  assert.equal(normalizeFree('STOP!'), 'stop');
  assert.equal(normalizeFree('3.5'), '3.5', 'inner punctuation is kept');
});

test('answersMatch compares letters for multiple choice and normalised text otherwise', () => {
  assert.equal(answersMatch('(B) green', 'B', options), true);
  assert.equal(answersMatch('green', 'B', options), true);
  assert.equal(answersMatch('C', 'B', options), false);
  assert.equal(answersMatch(null, 'B', options), false);
  assert.equal(answersMatch('Three.', '3'), true);
  assert.equal(answersMatch('the stop sign', 'Stop sign'), true);
  assert.equal(answersMatch('4', '3'), false);
  assert.equal(answersMatch('', ''), false, 'an empty expected answer never matches');
});

test('every way of writing an in-range letter reads as that letter', () => {
  const forms = (l: string) => [
    l,
    l.toLowerCase(),
    `(${l})`,
    `${l}.`,
    `${l})`,
    `Answer: ${l}`,
    `The answer is ${l}.`,
    `**${l}**`,
    `${l}) some option`,
  ];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3 }), (i) => {
      const letter = 'ABCD'[i]!;
      for (const f of forms(letter)) assert.equal(normalizeChoice(f, options), letter, f);
    }),
  );
});

test('normalizeFree strips punctuation that dropping an article exposes', () => {
  assert.equal(normalizeFree('5 ? a'), '5');
  assert.equal(normalizeFree('\u00bc\u{1eef0} a'), normalizeFree(normalizeFree('\u00bc\u{1eef0} a')));
});

test('normalizeFree is idempotent and never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40, unit: 'grapheme' }), (s) => {
      const once = normalizeFree(s);
      assert.equal(normalizeFree(once), once);
      normalizeChoice(s, options);
    }),
    { numRuns: 1000 },
  );
});
