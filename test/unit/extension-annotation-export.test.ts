import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correctEvidence, dpoLines, failureDataset, sftLines, toJsonl } from '../../src/extension/annotation-export';
import type { AnnotationRecord, Box, EvalRecord } from '../../src/core/types';
import { annotationRecord, datasetRecord, rolloutRecord } from './helpers/records';

const rollout = rolloutRecord;
const note = annotationRecord;
const evalRec = (id: string, over: Partial<EvalRecord> = {}): EvalRecord => ({
  v: 1,
  id,
  mode: 'grounded',
  checkpoint: '20',
  engine: 'torch',
  split: 'val',
  promptId: 'q9',
  image: 'img/q9.png',
  question: 'Where is the sign?',
  output: 'left',
  answer: 'B',
  expected: 'C',
  correct: false,
  boxes: [[1, 1, 5, 5]],
  evidence: [[10, 10, 20, 20]],
  iou: 0,
  toolCalls: 0,
  time: 0,
  ...over,
});

test('SFT takes approved correct traces only, as chat messages', () => {
  const rollouts = [rollout('a'), rollout('b', { correct: false }), rollout('c')];
  const annotations = [note('a', []), note('b', ['good']), note('c', ['wrong-region']), note('zz', [])];
  const r = sftLines({ annotations, rollouts, evals: [] });
  assert.deepEqual(r.lines, [
    {
      id: 'a',
      image: 'img/q1.png',
      messages: [
        { role: 'user', content: 'What colour is the cup?' },
        { role: 'assistant', content: 'answer of a' },
      ],
    },
  ]);
  assert.deepEqual(r.skipped, ['rollout zz: annotated, but no such record in the run']);
});

test('a withdrawn annotation is not exported, a later edit supersedes an earlier one', () => {
  const rollouts = [rollout('a'), rollout('b')];
  const annotations = [
    note('a', []),
    note('a', [], { deleted: true, time: 2 }),
    note('b', ['wrong-region']),
    note('b', ['good'], { time: 3 }),
  ];
  assert.deepEqual(
    sftLines({ annotations, rollouts, evals: [] }).lines.map((l) => l.id),
    ['b'],
  );
});

test('DPO pairs each failure with the best correct trace of the same question and stream', () => {
  const rollouts = [
    rollout('bad', { correct: false, score: 0.1 }),
    rollout('ok-high', { score: 0.9 }),
    rollout('ok-approved', { score: 0.6 }),
    rollout('other-stream', { stream: 'grounded', score: 2 }),
    rollout('lonely', { promptId: 'q2', correct: false }),
  ];
  const annotations = [
    note('bad', ['hallucinated-box'], { note: 'cites the saucer' }),
    note('ok-approved', []),
    note('lonely', ['wrong-answer']),
  ];
  const r = dpoLines({ annotations, rollouts, evals: [] });
  assert.equal(r.lines.length, 1);
  assert.deepEqual(r.lines[0], {
    prompt: 'What colour is the cup?',
    image: 'img/q1.png',
    chosen: 'answer of ok-approved',
    rejected: 'answer of bad',
    meta: { promptId: 'q1', chosenId: 'ok-approved', rejectedId: 'bad', tags: ['hallucinated-box'], note: 'cites the saucer' },
  });
  assert.deepEqual(r.skipped, ['rollout lonely: no correct trace of question q2 to pair it with']);
  // without an approved one, the highest-scoring correct trace is chosen
  assert.equal(dpoLines({ annotations: [note('bad', ['x'])], rollouts, evals: [] }).lines[0]?.meta.chosenId, 'ok-high');
});

test('failure cases become dataset records, a corrected box replacing the evidence box it corrects', () => {
  const base = datasetRecord({ family: 'attribute' });
  const rollouts = [rollout('bad', { correct: false }), rollout('bad2', { correct: false })];
  const evals = [evalRec('e1'), evalRec('e2', { promptId: 'q404', image: 'img/none.png' })];
  const annotations: AnnotationRecord[] = [
    note('bad', ['wrong-region'], { correctedBoxes: [[100, 100, 140, 150]] }),
    note('bad2', ['wrong-region']),
    { ...note('e1', ['missed-detail'], { note: 'tiny text' }), target: { kind: 'eval', id: 'e1' } },
    { ...note('e2', ['missed-detail']), target: { kind: 'eval', id: 'e2' } },
  ];
  const r = failureDataset(
    { annotations, rollouts, evals },
    {
      dataset: new Map([['q1', base]]),
      imageSize: (p) => (p === 'img/q9.png' ? { width: 300, height: 200 } : undefined),
      imagePath: (p) => `/data/set/${p}`,
    },
  );
  assert.equal(r.lines.length, 2);
  const [q1, q9] = r.lines;
  assert.deepEqual(q1?.evidence, [[100, 100, 140, 150]]);
  assert.equal(q1?.meta?.replacedEvidence, '0');
  assert.equal(q1?.image, '/data/set/img/q1.png', 'the image resolves away from the run');
  assert.deepEqual(q1?.options, ['red', 'blue']);
  assert.equal(q1?.split, 'failures');
  assert.deepEqual(
    { w: q9?.width, h: q9?.height, answer: q9?.answer, evidence: q9?.evidence, question: q9?.question },
    { w: 300, h: 200, answer: 'C', evidence: [[10, 10, 20, 20]], question: 'Where is the sign?' },
  );
  assert.deepEqual(r.skipped, ['eval e2: question q404 has no known image and size']);
  assert.equal(toJsonl(r.lines).split('\n').length, 3);
  assert.equal(toJsonl([]), '');
});

test('a failure of an imported run takes its answer from the dump and its question from the user turn', () => {
  const input = '<|im_start|>user\n<|vision_start|><|image_pad|>×64<|vision_end|>Where is the red car?<|im_end|>\n<|im_start|>assistant\n';
  const imported = rollout('imp', { promptId: 'p7', input, image: 'images/street.png', correct: false, expected: 'left' });
  const unknown = rollout('imp2', { promptId: 'p8', input, image: 'images/street.png', correct: false });
  const r = failureDataset(
    {
      annotations: [note('imp', ['wrong-region'], { correctedBoxes: [[40, 60, 160, 180]] }), note('imp2', ['wrong-region'])],
      rollouts: [imported, unknown],
      evals: [],
    },
    { dataset: new Map(), imageSize: () => ({ width: 400, height: 300 }), imagePath: (p) => `/runs/verl/${p}` },
  );
  assert.deepEqual(
    r.lines.map((l) => ({ question: l.question, answer: l.answer, evidence: l.evidence, image: l.image })),
    [{ question: 'Where is the red car?', answer: 'left', evidence: [[40, 60, 160, 180]], image: '/runs/verl/images/street.png' }],
  );
  assert.deepEqual(r.skipped, ['rollout imp2: question p8 has no known reference answer']);
});

test('a corrected box replaces only the evidence box it corrects; the others stay, extra boxes are added', () => {
  const evidence: Box[] = [
    [0, 0, 10, 10],
    [100, 100, 200, 200],
    [300, 0, 340, 40],
  ];
  const labels = ['cup', 'sign', 'lamp'];
  // Overlaps the sign only.
  const one = correctEvidence(evidence, labels, [[110, 120, 210, 190]]);
  assert.deepEqual(one.evidence, [
    [0, 0, 10, 10],
    [110, 120, 210, 190],
    [300, 0, 340, 40],
  ]);
  assert.deepEqual(one.labels, labels);
  assert.deepEqual(one.replaced, [1]);
  // No overlap: the nearest box is the one corrected.
  assert.deepEqual(correctEvidence(evidence, undefined, [[20, 20, 30, 30]]).evidence[0], [20, 20, 30, 30]);
  // More corrected boxes than evidence: the rest are added.
  const more = correctEvidence(
    [[0, 0, 10, 10]],
    ['cup'],
    [
      [0, 0, 12, 12],
      [500, 500, 510, 510],
    ],
  );
  assert.deepEqual(more.evidence, [
    [0, 0, 12, 12],
    [500, 500, 510, 510],
  ]);
  assert.deepEqual(more.labels, ['cup', 'corrected']);
  assert.deepEqual(correctEvidence(evidence, labels, []).evidence, evidence);
});
