import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iou } from '../../src/core/boxes';
import { parseTrace } from '../../src/core/trace';
import { describeRegion } from '../../src/core/regions';
import { perceptionCorpus, perceptionItem, type PerceptionSceneSpec } from '../../src/data/synthetic/perception';

const spec: PerceptionSceneSpec = {
  size: 224,
  targetScale: 0.2,
  distractors: { min: 1, max: 3 },
  tasks: ['colour', 'shape', 'place', 'box', 'word'],
  clutter: true,
  optionsRatio: 0,
  optionAnswer: 'letter',
};

test('every question names exactly one object and its answer describes that object', () => {
  for (let i = 0; i < 150; i++) {
    const { item, scene } = perceptionItem(3, 'demo', i, spec, 'qwen2-1000');
    assert.ok(scene, 'a perception question comes with its picture');
    assert.equal(item.objects.length, scene.objects.length);
    assert.equal(item.questions.length, spec.tasks.length);
    for (const q of item.questions) {
      const o = item.objects[q.object]!;
      const size = { width: item.width, height: item.height };
      if (q.task === 'colour') {
        assert.equal(item.objects.filter((p) => p.shape === o.shape).length, 1, q.question);
        assert.equal(q.answer, o.colour);
      } else if (q.task === 'shape') {
        assert.equal(item.objects.filter((p) => p.colour === o.colour).length, 1, q.question);
        assert.equal(q.answer, o.shape);
      } else if (q.task === 'place') {
        assert.equal(q.answer, describeRegion(o.box, size));
      } else if (q.task === 'box') {
        // The answer is a box the trace parser reads back onto the object.
        const parsed = parseTrace(`<think>It is <box>${q.answer}</box>.</think><answer>x</answer>`, {
          convention: 'qwen2-1000',
          original: size,
        });
        assert.ok(iou(parsed.boxes[0]!, o.box) > 0.9, `${q.answer} vs ${JSON.stringify(o.box)}`);
      } else {
        assert.equal(o.shape, 'sign');
        assert.equal(q.answer, o.word);
      }
    }
  }
});

test('pools are reproducible and differ between pool names', () => {
  const a = perceptionItem(3, 'demo', 7, spec, 'qwen2-1000').item;
  assert.deepEqual(perceptionItem(3, 'demo', 7, spec, 'qwen2-1000').item, a);
  assert.notDeepEqual(perceptionItem(3, 'demo-val', 7, spec, 'qwen2-1000').item.objects, a.objects);
});

test('the easiest stage draws one object on a plain background', () => {
  const { item, scene } = perceptionItem(
    1,
    'single',
    0,
    { ...spec, distractors: { min: 0, max: 0 }, tasks: ['colour'], clutter: false },
    'qwen2-1000',
  );
  assert.equal(item.objects.length, 1);
  assert.equal(scene?.clutter.length, 0);
});

test('a match question is text only: the stated value is given, and its option letter is the answer', () => {
  const letters = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const { item, scene } = perceptionItem(5, 'match', i, { ...spec, tasks: ['match'] }, 'qwen2-1000');
    assert.equal(scene, null);
    const [q] = item.questions;
    const options = Object.fromEntries([...q!.question.matchAll(/([A-D])\. (\S+)/g)].map((m) => [m[1]!, m[2]!]));
    const value = /^<think>It (?:is a|is|reads) (\S+)\. It matches option$/.exec(q!.prefix ?? '')?.[1];
    const letter = /^ ([A-D])\.<\/think><answer>\1<\/answer>$/.exec(q!.answer)?.[1];
    assert.ok(value && letter, `${q!.prefix} | ${q!.answer}`);
    assert.equal(options[letter], value, q!.question);
    letters.set(letter, (letters.get(letter) ?? 0) + 1);
  }
  assert.equal(letters.size, 4, 'the answer is any of the four letters');
  assert.throws(() => perceptionItem(5, 'x', 0, { ...spec, tasks: ['match', 'colour'] }, 'qwen2-1000'), /match questions only/);
});

test('the tokenizer corpus holds every question form and answer', () => {
  const corpus = perceptionCorpus('qwen2-1000');
  for (const text of [
    'What colour is the small star?',
    'purple',
    'Give the box of the small red cross.',
    'near the top-left corner',
    'What word is written on the small blue sign?',
    'CAT',
  ]) {
    assert.ok(corpus.includes(text), text);
  }
});

test("with options, the answer is the letter of the right option in the benchmark's question format", () => {
  let asked = 0;
  for (let i = 0; i < 100; i++) {
    const { item } = perceptionItem(5, 'mc', i, { ...spec, tasks: ['colour', 'relation'], optionsRatio: 1 }, 'qwen2-1000');
    const colour = item.questions[0]!;
    const m = /^What colour is the small \w+\? A\. (\w+) B\. (\w+) C\. (\w+) D\. (\w+)$/.exec(colour.question);
    assert.ok(m, colour.question);
    assert.equal(m['ABCD'.indexOf(colour.answer) + 1], item.objects[colour.object]!.colour);
    const rel = item.questions[1]!;
    if (rel.task !== 'relation') continue;
    asked++;
    const [a, b] = rel.objects!.map((k) => item.objects[k]!);
    assert.equal(
      rel.question,
      `Where is the small ${a!.colour} ${a!.shape} relative to the small ${b!.colour} ${b!.shape}? A. left B. right C. above D. below`,
    );
    const dx = (a!.box[0] + a!.box[2] - b!.box[0] - b!.box[2]) / 2;
    const dy = (a!.box[1] + a!.box[3] - b!.box[1] - b!.box[3]) / 2;
    const expected = Math.abs(dx) > Math.abs(dy) ? (dx < 0 ? 'A' : 'B') : dy < 0 ? 'C' : 'D';
    assert.equal(rel.answer, expected);
  }
  assert.ok(asked > 30, `${asked} relation questions of 100 scenes`);
});

test('answered by the option text, a question keeps its options and its answer names the right one', () => {
  for (let i = 0; i < 50; i++) {
    const mc = { ...spec, tasks: ['colour'] as const, optionsRatio: 1 };
    const { item: byLetter } = perceptionItem(5, 'mc', i, mc, 'qwen2-1000');
    const { item } = perceptionItem(5, 'mc', i, { ...mc, optionAnswer: 'text' }, 'qwen2-1000');
    const q = item.questions[0]!;
    assert.equal(q.question, byLetter.questions[0]!.question);
    assert.equal(q.answer, item.objects[q.object]!.colour);
    assert.ok(q.question.includes(`${byLetter.questions[0]!.answer}. ${q.answer}`), q.question);
  }
});

test('a copy stage asks a benchmark question without its picture, answered by the question word for word', () => {
  const copy = { ...spec, tasks: ['copy'] as const, optionsRatio: 0.5, families: ['attribute', 'position'] as const };
  let withOptions = 0;
  for (let i = 0; i < 40; i++) {
    const { item, scene } = perceptionItem(2, 'copy', i, copy, 'qwen2-1000');
    assert.equal(scene, null, 'nothing is drawn for a copy question');
    const [q] = item.questions;
    assert.match(q!.answer, /^(What colour|What shape|Where) .*\?$/);
    assert.ok(q!.question.startsWith(`Repeat the question: ${q!.answer}`), q!.question);
    if (/ A\. .* D\. /.test(q!.question)) withOptions++;
  }
  assert.ok(withOptions > 8 && withOptions < 32, `${withOptions} of 40 with options`);
  assert.throws(
    () => perceptionItem(2, 'x', 0, { ...copy, tasks: ['copy', 'colour'] }, 'qwen2-1000'),
    /a copy stage asks copy questions only/,
  );
});

test("a trace stage asks benchmark questions answered by both streams' reference traces, the evidence marked", () => {
  const trace = { ...spec, tasks: ['trace'] as const, optionsRatio: 0.75, families: ['attribute', 'position'] as const };
  for (let i = 0; i < 40; i++) {
    const { item } = perceptionItem(2, 'traces', i, trace, 'qwen2-1000');
    assert.deepEqual(
      item.questions.map((q) => q.stream),
      ['textual', 'grounded'],
    );
    for (const q of item.questions) {
      assert.equal(q.task, 'trace');
      assert.match(q.answer, /^<think>.*<\/think><answer>.+<\/answer>$/);
      assert.ok(q.objects!.length >= 1 && q.objects!.every((k) => k >= 0 && k < item.objects.length));
      // The grounded trace cites the evidence objects' boxes; the textual one cites none.
      const cited = parseTrace(q.answer, { convention: 'qwen2-1000', original: { width: item.width, height: item.height } }).boxes;
      if (q.stream === 'textual') assert.equal(cited.length, 0);
      else assert.ok(cited.every((b, k) => iou(b, item.objects[q.objects![k]!]!.box) > 0.9));
    }
  }
  assert.throws(
    () => perceptionItem(2, 'x', 0, { ...trace, tasks: ['trace', 'colour'] }, 'qwen2-1000'),
    /a trace stage asks trace questions only/,
  );
});

test('a trace stage with a shape share asks the shape that much more often; without one the questions are unchanged', () => {
  const trace = { ...spec, tasks: ['trace'] as const, optionsRatio: 0.75, families: ['attribute'] as const };
  const asks = (share: number | undefined, i: number): string =>
    perceptionItem(4, 'shapes', i, share === undefined ? trace : { ...trace, shapeShare: share }, 'qwen2-1000').item.questions[0]!.question;
  const shapeCount = (share: number | undefined): number =>
    Array.from({ length: 200 }, (_, i) => asks(share, i)).filter((q) => q.startsWith('What shape')).length;
  assert.equal(shapeCount(1), 200);
  assert.equal(shapeCount(0), 0);
  const half = shapeCount(undefined);
  assert.ok(half > 70 && half < 130, `${half} of 200 ask the shape by default`);
  const most = shapeCount(0.75);
  assert.ok(most > 125 && most < 175, `${most} of 200 ask the shape at 0.75`);
  // The benchmark's own share is one half: saying so draws the very same questions.
  for (let i = 0; i < 20; i++) assert.equal(asks(0.5, i), asks(undefined, i));
});

test("answered in sentences, each answer is the reference trace's sentence for what is asked; option letters stay letters", () => {
  const all = { ...spec, tasks: ['colour', 'shape', 'place', 'box', 'word', 'relation'] as const };
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const { item: valued } = perceptionItem(9, 'sentences', i, all, 'qwen2-1000');
    const { item } = perceptionItem(9, 'sentences', i, { ...all, answerForm: 'sentence' }, 'qwen2-1000');
    const size = { width: item.width, height: item.height };
    item.questions.forEach((q, k) => {
      const v = valued.questions[k]!;
      const o = item.objects[q.object]!;
      assert.equal(q.question, v.question, 'the same questions in either form');
      seen.add(q.task);
      if (q.task === 'colour') assert.equal(q.answer, `It is ${o.colour}.`);
      if (q.task === 'shape') assert.equal(q.answer, `It is a ${o.shape}.`);
      if (q.task === 'word') assert.equal(q.answer, `It reads ${o.word}.`);
      if (q.task === 'place') assert.equal(q.answer, `It is ${describeRegion(o.box, size)}.`);
      if (q.task === 'relation') {
        const b = item.objects[q.objects![1]!]!;
        assert.match(
          q.answer,
          new RegExp(`^So the ${o.colour} ${o.shape} is (left of|right of|above|below) the ${b.colour} ${b.shape}\\.$`),
        );
        assert.ok(q.answer.includes(` ${v.answer}`), `${q.answer} states ${v.answer}`);
      }
      if (q.task === 'box') {
        // Read back as a grounded trace's citation: the region's words, then the object's box.
        assert.ok(q.answer.startsWith(`It is ${describeRegion(o.box, size)} <box>`), q.answer);
        const cited = parseTrace(`<think>${q.answer}</think><answer>x</answer>`, { convention: 'qwen2-1000', original: size }).boxes;
        assert.equal(cited.length, 1);
        assert.ok(iou(cited[0]!, o.box) > 0.95, q.answer);
      }
    });
  }
  assert.deepEqual([...seen].sort(), ['box', 'colour', 'place', 'relation', 'shape', 'word']);
  const mc = { ...spec, tasks: ['colour'] as const, optionsRatio: 1, answerForm: 'sentence' as const };
  for (let i = 0; i < 10; i++) {
    assert.match(perceptionItem(9, 'mc', i, mc, 'qwen2-1000').item.questions[0]!.answer, /^[ABCD]$/);
    const byText = perceptionItem(9, 'mc', i, { ...mc, optionAnswer: 'text' }, 'qwen2-1000').item;
    assert.equal(byText.questions[0]!.answer, `It is ${byText.objects[byText.questions[0]!.object]!.colour}.`);
  }
});

test('place and box questions name their object as the stage asks: by colour, by shape, or both', () => {
  const named = { ...spec, tasks: ['place', 'box'] as const, naming: ['colour', 'shape'] as const };
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const { item } = perceptionItem(3, 'demo', i, named, 'qwen2-1000');
    for (const q of item.questions) {
      const o = item.objects[q.object]!;
      const byColour = q.question.includes(`small ${o.colour} object`);
      const byShape = new RegExp(`small ${o.shape}[?.]`).test(q.question);
      assert.ok(byColour !== byShape, `one name only: ${q.question}`);
      seen.add(byColour ? 'colour' : 'shape');
      // The one name still picks out one object.
      const same = item.objects.filter((p) => (byColour ? p.colour === o.colour : p.shape === o.shape));
      assert.equal(same.length, 1, q.question);
    }
  }
  assert.deepEqual([...seen].sort(), ['colour', 'shape']);
  // Without `naming`, a question names colour and shape, as pools drawn before it did.
  const { item } = perceptionItem(3, 'demo', 5, spec, 'qwen2-1000');
  for (const q of item.questions)
    if (q.task === 'place' || q.task === 'box') {
      const o = item.objects[q.object]!;
      assert.ok(q.question.includes(`small ${o.colour} ${o.shape}`), q.question);
    }
});
