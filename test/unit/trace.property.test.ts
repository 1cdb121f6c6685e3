import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { smartResize } from '../../src/core/boxes';
import { PROBLEM_CODES, parseTrace } from '../../src/core/trace';
import type { CoordConvention, ParseOptions, ParseResult } from '../../src/core/types';

const conventions: CoordConvention[] = ['pixels', 'relative', 'qwen2-1000', 'qwen25-abs'];
const optsArb: fc.Arbitrary<ParseOptions> = fc.record({
  convention: fc.constantFrom(...conventions),
  original: fc.record({ width: fc.integer({ min: 1, max: 4000 }), height: fc.integer({ min: 1, max: 4000 }) }),
});

const TOKENS = [
  '<think>',
  '</think>',
  '<answer>',
  '</answer>',
  '<box>',
  '</box>',
  '<|box_start|>',
  '<|box_end|>',
  '<|object_ref_start|>',
  '<|object_ref_end|>',
  '<tool_call>',
  '</tool_call>',
  '<|im_end|>',
  '[12, 40, 300, 420]',
  '(1,2),(3,4)',
  '{"bbox_2d": [1, 2, 30, 40], "label": "x"}',
  '{"name": "zoom_in", "arguments": {"bbox_2d": [0,0,9,9]}}',
  '{',
  '}',
  '"',
  '[',
  ']',
  ',',
  '<',
  '>',
  '\n',
  'Answer: B',
  ' the sign ',
  'NaN',
  '1e999',
  '-5',
  '```json',
];

/** Text made of grammar fragments in random order: reaches far more parser states than random characters. */
const fragmentText = fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 })), { maxLength: 40 }).map((a) => a.join(''));

const VALID = [
  '<think>The sign <|object_ref_start|>sign<|object_ref_end|><|box_start|>(100,200),(300,400)<|box_end|> is red; the car {"bbox_2d": [10, 20, 300, 400], "label": "car"} is <box>[5, 5, 50, 50]</box> left.</think>\n',
  '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [0, 0, 500, 500]}}</tool_call>\n',
  '<answer>B</answer><|im_end|>',
].join('');

/** A valid trace with tags inserted, deleted or duplicated and random cuts. */
const mutatedTrace = fc
  .array(
    fc.oneof(
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), what: fc.constantFrom(...TOKENS) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
    ),
    { maxLength: 8 },
  )
  .map((ops) => {
    let t = VALID;
    for (const o of ops) {
      const at = o.at % (t.length + 1);
      if (o.op === 'insert') t = t.slice(0, at) + o.what + t.slice(at);
      else if (o.op === 'delete') t = t.slice(0, at) + t.slice(at + o.len);
      else t = t.slice(0, at) + t.slice(at, at + o.len) + t.slice(at);
    }
    return t;
  });

function assertWellFormed(text: string, r: ParseResult): void {
  let at = 0;
  for (const s of r.segments) {
    assert.equal(s.span.start, at, `segment starts at ${s.span.start}, expected ${at}`);
    assert.ok(s.span.end > s.span.start, 'segments are non-empty');
    at = s.span.end;
  }
  assert.equal(at, text.length, 'segments cover the whole text');
  for (const p of r.problems) {
    assert.ok((PROBLEM_CODES as readonly string[]).includes(p.code), `undocumented problem code ${p.code}`);
    assert.ok(p.message.length > 0);
    if (p.span) assert.ok(p.span.start >= 0 && p.span.end <= text.length && p.span.start <= p.span.end);
  }
  for (const b of r.boxes) {
    assert.ok(b.every(Number.isFinite) && b[0] < b[2] && b[1] < b[3], `box ${b} is finite and ordered`);
  }
}

test('parseTrace never throws and tiles arbitrary strings', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), optsArb, (text, opts) => {
      assertWellFormed(text, parseTrace(text, opts));
    }),
    { numRuns: 500 },
  );
});

test('parseTrace never throws and tiles strings built from grammar fragments', () => {
  fc.assert(
    fc.property(fragmentText, optsArb, (text, opts) => {
      assertWellFormed(text, parseTrace(text, opts));
    }),
    { numRuns: 1000 },
  );
});

test('parseTrace never throws on mutated valid traces, and boxes stay inside the image', () => {
  fc.assert(
    fc.property(mutatedTrace, optsArb, (text, opts) => {
      const r = parseTrace(text, opts);
      assertWellFormed(text, r);
      for (const b of r.boxes) assert.ok(b[0] >= 0 && b[1] >= 0 && b[2] <= opts.original.width && b[3] <= opts.original.height);
    }),
    { numRuns: 1000 },
  );
});

test('the unmutated valid trace parses cleanly in every convention', () => {
  // The same trace with its coordinates written as 0-1 fractions, for the relative convention.
  const relative = VALID.replace(/(?<![\w.])\d+/g, (n) => String(Number(n) / 1000));
  for (const convention of conventions) {
    const r = parseTrace(convention === 'relative' ? relative : VALID, { convention, original: { width: 1000, height: 1000 } });
    assert.deepEqual(r.problems, [], convention);
    assert.equal(r.boxes.length, 3, convention);
    assert.equal(r.toolCalls.length, 1, convention);
    // The first box in original pixels: qwen25-abs coordinates are of the smart-resized input.
    const scale = convention === 'qwen25-abs' ? 1000 / smartResize({ width: 1000, height: 1000 }).width : 1;
    r.boxes[0]!.forEach((v, i) =>
      assert.ok(Math.abs(v - [100, 200, 300, 400][i]! * scale) < 1e-6, `${convention}: ${r.boxes[0]!.join(',')}`),
    );
  }
});
