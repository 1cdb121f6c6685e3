import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace } from '../../src/core/trace';
import type { ParseOptions, ParseResult } from '../../src/core/types';

const opts: ParseOptions = { convention: 'qwen2-1000', original: { width: 2000, height: 1000 } };

function codes(r: ParseResult): string[] {
  return r.problems.map((p) => p.code);
}

function slice(text: string, r: ParseResult, kind: string): string[] {
  return r.segments.filter((s) => s.kind === kind).map((s) => text.slice(s.span.start, s.span.end));
}

test('a well-formed grounded trace has no problems', () => {
  const text = '<think>The sign <box>[100, 200, 300, 400]</box> is red.</think>\n<answer>B</answer>';
  const r = parseTrace(text, opts);
  assert.deepEqual(r.problems, []);
  assert.equal(r.think, 'The sign <box>[100, 200, 300, 400]</box> is red.');
  assert.equal(r.answerText, 'B');
  assert.deepEqual(r.boxes, [[200, 200, 600, 400]]);
  assert.deepEqual(slice(text, r, 'box'), ['<box>[100, 200, 300, 400]</box>']);
  assert.deepEqual(
    r.segments.filter((s) => s.kind === 'text').map((s) => (s.kind === 'text' ? s.region : '')),
    ['think', 'think', 'other', 'answer'],
  );
});

test('every box form converts to original pixels', () => {
  const forms = [
    '<box>[100,200,300,400]</box>',
    '<box>(100,200),(300,400)</box>',
    '<|box_start|>(100,200),(300,400)<|box_end|>',
    '{"bbox_2d": [100, 200, 300, 400], "label": "sign"}',
    '```json\n[{"bbox_2d": [100, 200, 300, 400], "label": "sign"}]\n```',
  ];
  for (const form of forms) {
    const r = parseTrace(`<think>${form}</think><answer>A</answer>`, opts);
    assert.deepEqual(r.boxes, [[200, 200, 600, 400]], form);
    assert.deepEqual(r.problems, [], form);
  }
});

test('a ref right before a box labels it; JSON labels come from the object', () => {
  const text =
    '<think><|object_ref_start|>the red sign<|object_ref_end|> <|box_start|>(1,2),(3,4)<|box_end|> and {"label": "car", "bbox_2d": [5,6,7,8]}</think><answer>A</answer>';
  const r = parseTrace(text, opts);
  const labels = r.segments.flatMap((s) => (s.kind === 'box' ? [s.label] : s.kind === 'ref' ? [`ref:${s.label}`] : []));
  assert.deepEqual(labels, ['ref:the red sign', 'the red sign', 'car']);
});

test('a ref followed by words does not label a later box', () => {
  const text = '<think><|object_ref_start|>cup<|object_ref_end|> is near <box>[1,2,3,4]</box></think><answer>A</answer>';
  const box = parseTrace(text, opts).segments.find((s) => s.kind === 'box');
  assert.ok(box && box.kind === 'box');
  assert.equal(box.label, undefined);
});

test('qwen25-abs boxes scale by the smart-resized input', () => {
  const r = parseTrace('<think><box>[140,70,700,700]</box></think><answer>A</answer>', { ...opts, convention: 'qwen25-abs' });
  assert.deepEqual(r.boxes, [[200, 100, 1000, 1000]]);
  const given = parseTrace('<think><box>[50,50,100,100]</box></think><answer>A</answer>', {
    ...opts,
    convention: 'qwen25-abs',
    resized: { width: 500, height: 500 },
  });
  assert.deepEqual(given.boxes, [[200, 100, 400, 200]]);
});

test('bad boxes become problems with a reason and stay out of the box list', () => {
  const text =
    '<think><box>[1,2,3]</box> <box>[a,b,c,d]</box> <box>[5,5,5,9]</box> {"bbox_2d": "x"} <box>[1e999,0,5,5]</box></think><answer>A</answer>';
  const r = parseTrace(text, opts);
  assert.deepEqual(r.boxes, []);
  assert.deepEqual(codes(r), ['bad-box', 'bad-box', 'bad-box', 'bad-box', 'bad-box']);
  assert.match(r.problems[0]!.message, /expected 4 numbers/);
  assert.match(r.problems[1]!.message, /'a' is not a number/);
  assert.match(r.problems[2]!.message, /x2 .* greater than x1/);
  assert.match(r.problems[3]!.message, /bbox_2d must be an array of 4 numbers/);
  assert.match(r.problems[4]!.message, /Infinity/);
  for (const p of r.problems) assert.ok(p.span && text.slice(p.span.start, p.span.end).length > 0);
});

test('boxes outside the image are dropped; partly outside ones are clamped', () => {
  const r = parseTrace('<think><box>[1001,0,1200,10]</box> <box>[900,900,1100,1000]</box></think><answer>A</answer>', opts);
  assert.deepEqual(r.boxes, [[1800, 900, 2000, 1000]]);
  assert.deepEqual(codes(r), ['box-out-of-image', 'box-out-of-image']);
  assert.match(r.problems[0]!.message, /outside/);
  assert.match(r.problems[1]!.message, /clamped/);
});

test('zoom_in tool calls are parsed with their region', () => {
  const text = '<think>zoom</think><tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500]}}</tool_call>';
  const r = parseTrace(text, opts);
  assert.deepEqual(r.toolCalls, [{ name: 'zoom_in', box: [0, 0, 1000, 500], span: { start: 19, end: text.length } }]);
  assert.deepEqual(r.boxes, [], 'a zoom region is not a cited box');
  assert.deepEqual(codes(r), ['missing-answer']);
});

test('bad and unknown tool calls are reported', () => {
  const bad = parseTrace('<think>x</think><tool_call>{"name": zoom}</tool_call><answer>A</answer>', opts);
  assert.deepEqual(codes(bad), ['bad-tool-call']);
  assert.match(bad.problems[0]!.message, /not valid JSON/);
  const unknown = parseTrace('<think>x</think><tool_call>{"name": "rotate", "arguments": {}}</tool_call><answer>A</answer>', opts);
  assert.deepEqual(codes(unknown), ['unknown-tool']);
  assert.deepEqual(unknown.toolCalls, []);
  assert.equal(unknown.segments.filter((s) => s.kind === 'tool').length, 1);
  const noBox = parseTrace('<think>x</think><tool_call>{"name": "zoom_in", "arguments": {}}</tool_call><answer>A</answer>', opts);
  assert.deepEqual(codes(noBox), ['bad-tool-call']);
  assert.deepEqual(
    noBox.toolCalls.map((t) => t.box),
    [null],
  );
});

test('structure problems: missing, unclosed, nested, multiple, trailing text, empty', () => {
  assert.deepEqual(codes(parseTrace('<answer>A</answer>', opts)), ['missing-think']);
  assert.deepEqual(codes(parseTrace('<think>hmm</think>', opts)), ['missing-answer']);
  const unclosed = parseTrace('<think>hmm <answer>B', opts);
  assert.deepEqual(codes(unclosed).sort(), ['nested-tag', 'unclosed-tag', 'unclosed-tag']);
  assert.equal(unclosed.answerText, 'B');
  assert.equal(unclosed.think, 'hmm <answer>B');
  const nested = parseTrace('<think>a <think>b</think> c</think><answer>A <answer>B</answer>', opts);
  assert.equal(nested.think, 'a <think>b</think> c', 'the outer think block');
  assert.equal(nested.answerText, 'B', 'the latest-opened answer');
  assert.deepEqual(codes(nested), ['nested-tag', 'multiple-think', 'unclosed-tag', 'nested-tag', 'multiple-answers']);
  const multiple = parseTrace('<think>x</think><answer>A</answer><answer>C</answer>', opts);
  assert.deepEqual(codes(multiple), ['multiple-answers']);
  assert.equal(multiple.answerText, 'C', 'the last answer counts');
  assert.deepEqual(codes(parseTrace('<think>x</think><answer>A</answer> and more', opts)), ['text-after-answer']);
  assert.deepEqual(codes(parseTrace('<think>x</think><answer>A</answer>\n<|im_end|>', opts)), [], 'end tokens are not extra text');
  assert.deepEqual(codes(parseTrace('<think>x</think><answer>  </answer>', opts)), ['empty-answer']);
  assert.deepEqual(codes(parseTrace('<think>x</think></box><answer>A</answer>', opts)), ['stray-close-tag']);
  assert.deepEqual(codes(parseTrace('<think>x <box>[1,2,3,4] oops</think><answer>A</answer>', opts)), ['unclosed-tag']);
});

test('without an <answer> tag the last "Answer:" line is used and reported', () => {
  const r = parseTrace('<think>The light is green.</think>\nSo the answer is **B**.', opts);
  assert.equal(r.answerText, 'B');
  assert.deepEqual(codes(r), ['missing-answer']);
  assert.match(r.problems[0]!.message, /last line/);
  assert.equal(parseTrace('<think>x</think>\nAnswer: 3 apples', opts).answerText, '3 apples');
  assert.equal(parseTrace('<think>x</think>\nFinal answer: the answer key', opts).answerText, 'the answer key');
  assert.equal(parseTrace('<think>x</think>\nI have no idea', opts).answerText, null);
  assert.equal(parseTrace('The answerable question', opts).answerText, null);
});

test('an invalid image size is reported once and boxes cannot be converted', () => {
  const r = parseTrace('<think><box>[1,2,3,4]</box></think><answer>A</answer>', {
    convention: 'pixels',
    original: { width: 0, height: 10 },
  });
  assert.deepEqual(codes(r), ['bad-box', 'bad-image-size']);
  assert.deepEqual(r.boxes, []);
});

test('segments tile a mixed trace exactly', () => {
  const text = 'pre <think>a <box>[1,2,3,4]</box> {"x": 1} </think> mid <answer>B</answer> post';
  const r = parseTrace(text, opts);
  let at = 0;
  for (const s of r.segments) {
    assert.equal(s.span.start, at);
    assert.ok(s.span.end > s.span.start);
    at = s.span.end;
  }
  assert.equal(at, text.length);
});
