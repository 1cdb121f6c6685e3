/** Event records for tests that build a run by hand: every field set, any of them overridden. */
import type { AnnotationRecord, DatasetRecord, RolloutRecord } from '../../../src/core/types';

export const rolloutRecord = (id: string, over: Partial<RolloutRecord> = {}): RolloutRecord => ({
  v: 1,
  id,
  step: 1,
  stream: 'textual',
  promptId: 'q1',
  sample: 0,
  input: 'What colour is the cup?',
  output: `answer of ${id}`,
  score: 0.5,
  image: 'img/q1.png',
  answer: 'A',
  correct: true,
  boxes: [],
  rewards: {},
  advantage: 0,
  tokens: { prompt: 10, completion: 20 },
  finish: 'stop',
  time: 0,
  ...over,
});

export const annotationRecord = (id: string, tags: string[], over: Partial<AnnotationRecord> = {}): AnnotationRecord => ({
  v: 1,
  target: { kind: 'rollout', id },
  tags,
  note: '',
  correctedBoxes: [],
  time: 1,
  ...over,
});

export const datasetRecord = (over: Partial<DatasetRecord> = {}): DatasetRecord => ({
  id: 'q1',
  image: 'img/q1.png',
  width: 640,
  height: 480,
  question: 'What colour is the cup?',
  options: ['red', 'blue'],
  answer: 'A',
  evidence: [[0, 0, 9, 9]],
  ...over,
});
