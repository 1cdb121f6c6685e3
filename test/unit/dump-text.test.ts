import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collapseVisionPads, dumpOutputBoxes, normalizeQuestion, userTurn } from '../../src/core/dump-text';
import { DatasetMatcher, readImageDatasetRow } from '../../src/core/image-join';
import { toOriginal } from '../../src/core/boxes';

test('a run of <|image_pad|> tokens collapses to one token with its count; other text is untouched', () => {
  const prompt = `<|vision_start|>${'<|image_pad|>'.repeat(1196)}<|vision_end|>What is written on the sign?`;
  assert.equal(collapseVisionPads(prompt), '<|vision_start|><|image_pad|>×1196<|vision_end|>What is written on the sign?');
  assert.equal(collapseVisionPads('<|video_pad|><|video_pad|> and <|image_pad|>'), '<|video_pad|>×2 and <|image_pad|>×1');
  assert.equal(collapseVisionPads('no tokens here'), 'no tokens here');
});

test('the question of a chat prompt is its last user turn, with or without special tokens', () => {
  const tagged =
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|>×4<|vision_end|>What colour is\n the car?<|im_end|>\n<|im_start|>assistant\n';
  assert.equal(userTurn(tagged), 'What colour is the car?');
  assert.equal(userTurn('system\nBe brief.\nuser\n<image>What colour is the car?\nassistant\n'), 'What colour is the car?');
  assert.equal(userTurn('just a question'), 'just a question');
  assert.equal(normalizeQuestion('<image>  Where\nis it? '), 'Where is it?');
});

test('Qwen2-VL <|box_start|>(x1,y1),(x2,y2)<|box_end|> boxes are on a 0..1000 grid of the image; Qwen2.5-VL boxes on its resized input', () => {
  assert.deepEqual(dumpOutputBoxes('<|box_start|>(100,200),(500,600)<|box_end|>', { width: 640, height: 480 }), [[64, 96, 320, 288]]);
  assert.deepEqual(
    dumpOutputBoxes('two: <|box_start|>(0,0),(1000,1000)<|box_end|> <box>[500,500,1000,1000]</box>', { width: 200, height: 100 }),
    [
      [0, 0, 200, 100],
      [100, 50, 200, 100],
    ],
  );
  assert.deepEqual(dumpOutputBoxes('no boxes', { width: 10, height: 10 }), []);
  // Qwen2.5-VL: pixels of its smart-resized input, here a 1000x500 image read at 1008x504.
  const q25 = '```json\n[{"bbox_2d": [504, 252, 1008, 504], "label": "car"}]\n```';
  assert.deepEqual(dumpOutputBoxes(q25, { width: 1000, height: 500 }, 'qwen25-abs'), [
    toOriginal([504, 252, 1008, 504], 'qwen25-abs', { width: 1000, height: 500 }),
  ]);
});

test('dataset rows read verl, EasyR1 and JSONL shapes; a row without question or image is named', () => {
  const verl = readImageDatasetRow(
    {
      prompt: [
        { role: 'system', content: 'x' },
        { role: 'user', content: '<image>Q?' },
      ],
      images: [{ bytes: new Uint8Array([1]), path: null }],
      extra_info: { index: 3 },
    },
    1,
    'd.parquet row 1',
  );
  assert.deepEqual(verl, { row: 1, question: '<image>Q?', image: { bytes: new Uint8Array([1]) }, id: '3' });
  const easy = readImageDatasetRow({ problem: 'P?', images: [{ bytes: null, path: 'a.png' }] }, 2, 'd.parquet row 2');
  assert.deepEqual(easy, { row: 2, question: 'P?', image: { path: 'a.png' } });
  assert.deepEqual(readImageDatasetRow({ id: 'q9', question: 'Q', image: 'img/q9.jpg' }, 4, 'd.jsonl:4'), {
    row: 4,
    question: 'Q',
    image: { path: 'img/q9.jpg' },
    id: 'q9',
  });
  assert.throws(() => readImageDatasetRow({ image: 'a.png' }, 5, 'd.jsonl:5'), /^Error: d\.jsonl:5: no question/);
  assert.throws(() => readImageDatasetRow({ question: 'Q' }, 6, 'd.jsonl:6'), /^Error: d\.jsonl:6: no image/);
});

test('a dump row matches its dataset row by id first, else by its user turn, else by a question its prompt contains', () => {
  const rows = [
    { row: 1, id: '1', question: '<image>What colour is the car?', image: { path: 'a.png' } },
    { row: 2, id: '2', question: 'How many people are in the picture?', image: { path: 'b.png' } },
    { row: 3, question: 'Hi', image: { path: 'c.png' } },
  ];
  const m = new DatasetMatcher(rows);
  assert.equal(m.match({ ref: '2', input: 'anything' })?.row, 2);
  assert.equal(
    m.match({ input: '<|im_start|>user\n<|vision_start|><|image_pad|>×9<|vision_end|>What colour is the car?<|im_end|>' })?.row,
    1,
  );
  assert.equal(
    m.match({ input: 'user\nHow many people are in the picture? Think step by step and answer with a number.\nassistant\n' })?.row,
    2,
  );
  assert.equal(m.match({ input: 'user\nSay Hi to me\nassistant\n' }), undefined, 'a short question is not searched for inside prompts');
  assert.equal(m.match({ ref: '404', input: 'user\nUnknown?\nassistant\n' }), undefined);
});
