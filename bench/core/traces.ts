/** Deterministic generator of realistic model traces for the core benchmark. */
import { describeRegion } from '../../src/core/regions';
import { fromOriginal } from '../../src/core/boxes';
import type { Box, DatasetRecord, ImageSize } from '../../src/core/types';

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OBJECTS = ['sign', 'cup', 'bicycle', 'flag', 'clock', 'umbrella', 'backpack', 'license plate', 'poster', 'bottle'];
const COLOURS = ['red', 'blue', 'green', 'yellow', 'white', 'black'];
const FILLER = [
  'Let me look at the image carefully before answering.',
  'The question asks about a small detail, so I need to find the object first.',
  'There are several objects in the scene, including people, cars and buildings.',
  'The lighting is uneven, which makes the colours harder to judge.',
  'I should compare this with the other candidates before deciding.',
  'At first glance the object is hard to see because it is small relative to the image.',
  'Looking more closely, the edges of the object are clearly visible.',
  'The background contains a street with shops and a few trees.',
  'Some of the text is partially occluded, but enough is readable.',
  'I will check each option against what I see.',
];

export interface BenchTrace {
  stream: 'grounded' | 'textual';
  text: string;
  /** Rough token count (about 4 characters per token). */
  tokens: number;
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)] as T;
}

function randomBox(rand: () => number, size: ImageSize): Box {
  const w = 20 + rand() * size.width * 0.2;
  const h = 20 + rand() * size.height * 0.2;
  const x = rand() * (size.width - w);
  const y = rand() * (size.height - h);
  return [Math.round(x), Math.round(y), Math.round(x + w), Math.round(y + h)];
}

export function benchRecord(rand: () => number): DatasetRecord {
  const size = { width: 1920 + Math.floor(rand() * 2000), height: 1080 + Math.floor(rand() * 1500) };
  return {
    id: `q${Math.floor(rand() * 1e9)}`,
    image: 'img.png',
    ...size,
    question: `What colour is the ${pick(rand, OBJECTS)}?`,
    options: ['red', 'blue', 'green', 'yellow'],
    answer: pick(rand, ['A', 'B', 'C', 'D']),
    evidence: [randomBox(rand, size)],
  };
}

/**
 * A trace of roughly `targetTokens` tokens for `record`, in the qwen25-abs
 * convention (what Qwen2.5-VL writes): filler reasoning with, for the grounded
 * stream, 1–4 cited boxes and sometimes a zoom call, and for both streams a
 * few region phrases; the answer is right about 60 % of the time.
 */
export function benchTrace(
  rand: () => number,
  record: DatasetRecord,
  stream: 'grounded' | 'textual',
  targetTokens: number,
  resized: ImageSize,
): BenchTrace {
  const size = { width: record.width, height: record.height };
  const target = targetTokens * 4;
  const pieces: string[] = [];
  const nearEvidence = (): Box => {
    const ev = record.evidence[0];
    if (ev === undefined || rand() < 0.3) return randomBox(rand, size);
    const j = (): number => Math.round((rand() - 0.5) * 10);
    return [ev[0] + j(), ev[1] + j(), ev[2] + j(), ev[3] + j()];
  };
  const raw = (box: Box): string => fromOriginal(box, 'qwen25-abs', size, resized).join(',');
  if (stream === 'grounded') {
    const boxes = 1 + Math.floor(rand() * 4);
    for (let b = 0; b < boxes; b++)
      pieces.push(`The ${pick(rand, OBJECTS)} <box>[${raw(nearEvidence())}]</box> appears ${pick(rand, COLOURS)}.`);
    if (rand() < 0.3)
      pieces.push(`I need a closer look. <tool_call>{"name":"zoom_in","arguments":{"bbox_2d":[${raw(nearEvidence())}]}}</tool_call>`);
  }
  const phrases = 1 + Math.floor(rand() * 3);
  for (let p = 0; p < phrases; p++)
    pieces.push(`The ${pick(rand, OBJECTS)} ${describeRegion(nearEvidence(), size)} looks ${pick(rand, COLOURS)}.`);
  let chars = pieces.reduce((s, p) => s + p.length + 1, 0);
  while (chars < target) {
    const f = pick(rand, FILLER);
    pieces.splice(Math.floor(rand() * (pieces.length + 1)), 0, f);
    chars += f.length + 1;
  }
  const answer = rand() < 0.6 ? record.answer : pick(rand, ['A', 'B', 'C', 'D']);
  const text = `<think>${pieces.join(' ')}</think> <answer>${pick(rand, ['', '(', 'The answer is '])}${answer}${rand() < 0.5 ? '' : ')'}</answer>`;
  return { stream, text, tokens: Math.round(text.length / 4) };
}
