import assert from 'node:assert/strict';
import { test } from 'node:test';
import { questionOf, snippet } from '../../src/core/row-text';

test('the question is the last user turn, without system text, chat markup or image tokens', () => {
  assert.equal(
    questionOf('system: Reason inside <think>.\nuser: What shape is it?\nCite each region.'),
    'What shape is it? Cite each region.',
  );
  assert.equal(
    questionOf(
      '<|im_start|>system\nBe brief<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Which sign?<|im_end|>\n<|im_start|>assistant\n',
    ),
    '[image] Which sign?',
  );
  assert.equal(questionOf('  What colour?  '), 'What colour?');
});

test('a snippet starts at the text, or shortly before a search match the start would not show', () => {
  assert.equal(snippet('a  b\nc', undefined, 10), 'a b c');
  const long = `${'x'.repeat(300)} zoom_in here`;
  const s = snippet(long, 'ZOOM_IN', 60);
  assert.ok(s.startsWith('…') && s.includes('zoom_in') && s.length <= 60);
  assert.equal(snippet('zoom_in first', 'zoom_in', 60), 'zoom_in first');
});
