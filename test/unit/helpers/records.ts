/** Event records for tests that build a run by hand: every field set, any of them overridden. */
import type { AnnotationRecord, RolloutRecord } from '../../../src/core/types';

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
