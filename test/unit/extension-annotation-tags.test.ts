// The annotation form's tags come from the ivgr.annotation.tags setting; a bad value falls back to
// the default failure taxonomy with one warning that names the setting and what was expected.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { fake } from './fakes/use-fake-vscode';
import { APPROVAL_TAG, isFailure } from '../../src/extension/annotation-export';
import { DEFAULT_ANNOTATION_TAGS, parseAnnotationTags } from '../../src/extension/annotation-tags';

const { readSettings } = await import('../../src/extension/settings');

beforeEach(() => fake.reset());

test('the default is the failure taxonomy, after the approval tag', () => {
  assert.deepEqual(readSettings().annotationTags, [
    'good',
    'wrong-region',
    'right-region-wrong-answer',
    'hallucinated-box',
    'format',
    'other',
  ]);
  assert.deepEqual(fake.shown, []);
  // Only the approval tag leaves a correct trace out of the failure exports.
  const note = (tags: string[]) => ({
    v: 1 as const,
    target: { kind: 'rollout' as const, id: 'r' },
    tags,
    note: '',
    correctedBoxes: [],
    time: 1,
  });
  assert.deepEqual(
    DEFAULT_ANNOTATION_TAGS.filter((t) => isFailure(note([t]), true)),
    DEFAULT_ANNOTATION_TAGS.filter((t) => t !== APPROVAL_TAG),
  );
});

test('a custom list is used as given, names trimmed', () => {
  fake.settings.set('ivgr.annotation.tags', ['good', ' blurry-crop ', 'off-by-one']);
  assert.deepEqual(readSettings().annotationTags, ['good', 'blurry-crop', 'off-by-one']);
  assert.deepEqual(fake.shown, []);
});

test('bad lists fall back to the default and say which entry is wrong', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['wrong-region', /^ivgr\.annotation\.tags: expected a list of tag names, got "wrong-region"/],
    [[], /^ivgr\.annotation\.tags: expected at least one tag, got an empty list/],
    [['good', '  '], /^ivgr\.annotation\.tags\[1\]: expected a tag name of 1-64 characters, got " {2}"/],
    [['good', 7], /^ivgr\.annotation\.tags\[1\]: expected a tag name of 1-64 characters, got 7/],
    [['format', 'other', 'format '], /^ivgr\.annotation\.tags\[2\]: "format" is already listed at \[0\]; expected unique tags/],
    [['x'.repeat(65)], /^ivgr\.annotation\.tags\[0\]: expected a tag name of 1-64/],
    [Array.from({ length: 33 }, (_, i) => `t${i}`), /^ivgr\.annotation\.tags: expected at most 32 tags, got 33/],
  ];
  for (const [value, why] of cases) {
    const r = parseAnnotationTags(value);
    assert.deepEqual(r.tags, DEFAULT_ANNOTATION_TAGS, JSON.stringify(value));
    assert.match(r.problem ?? '', why);
    assert.match(r.problem ?? '', /; using the default tags \(good, wrong-region, /);
  }
});

test('the warning shows once per bad value, with a way to the setting', () => {
  fake.settings.set('ivgr.annotation.tags', ['good', 'good']);
  readSettings();
  readSettings();
  assert.equal(fake.shown.length, 1);
  assert.equal(fake.shown[0]!.kind, 'warning');
  assert.match(fake.shown[0]!.message, /^iVGR: ivgr\.annotation\.tags\[1\]: "good" is already listed at \[0\]/);
  assert.deepEqual(fake.shown[0]!.items, ['Open Setting']);
  fake.settings.set('ivgr.annotation.tags', ['good']);
  assert.deepEqual(readSettings().annotationTags, ['good']);
  fake.settings.set('ivgr.annotation.tags', ['good', 'good']);
  readSettings();
  assert.equal(fake.shown.length, 2, 'a value that is bad again after a fix warns again');
});
