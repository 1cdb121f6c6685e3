/**
 * Perception tasks for pretraining a model from random weights: short questions about one
 * object of a synthetic scene (its colour, shape, place, box or the word on it), answered
 * in a few tokens. Scenes come from the benchmark's own layout and renderer, so the
 * pretrained model sees the pictures the benchmark asks about. Pure: no rendering, no I/O.
 */
import type { Box, CoordConvention } from '../../core/types';
import { describeRegion } from '../../core/regions';
import { Prng, hashString } from './prng';
import { PlacementError, emptyScene, pickCanvas, placeObject, targetSize, type Scene, type SceneObject } from './scene';
import { formatBox } from './traces';
import { COLOUR_NAMES, SHAPES, WORDS, type ColourName, type ShapeName } from './vocabulary';

export const PERCEPTION_TASKS = ['colour', 'shape', 'place', 'box', 'word'] as const;
export type PerceptionTask = (typeof PERCEPTION_TASKS)[number];

/** One curriculum stage's scenes: canvas, target size, how many other objects, which questions. */
export interface PerceptionSceneSpec {
  /** Long side of the canvas in pixels. */
  size: number;
  /** Object size as a fraction of sqrt(width * height). */
  targetScale: number;
  /** Other objects besides the one asked about. */
  distractors: { min: number; max: number };
  tasks: readonly PerceptionTask[];
  /** Background clutter as in the benchmark; off for the easiest stage. */
  clutter: boolean;
}

export interface PerceptionObject {
  colour: ColourName;
  /** `sign` for a sign with a word on it. */
  shape: ShapeName | 'sign';
  box: Box;
  word?: string;
}

export interface PerceptionQuestion {
  task: PerceptionTask;
  question: string;
  answer: string;
  /** Index into the item's objects of the object asked about. */
  object: number;
}

export interface PerceptionItem {
  id: string;
  width: number;
  height: number;
  objects: PerceptionObject[];
  /** One question per task of the stage. */
  questions: PerceptionQuestion[];
}

/** The question and answer for `task` about object `o` (which is unique by the name used). */
export function askAbout(
  task: PerceptionTask,
  o: PerceptionObject,
  size: { width: number; height: number },
  convention: CoordConvention,
): Omit<PerceptionQuestion, 'object'> {
  const name = `${o.colour} ${o.shape}`;
  switch (task) {
    case 'colour':
      return { task, question: `What colour is the small ${o.shape}?`, answer: o.colour };
    case 'shape':
      return { task, question: `What shape is the small ${o.colour} object?`, answer: o.shape };
    case 'place':
      return { task, question: `Where is the small ${name}?`, answer: describeRegion(o.box, size) };
    case 'box':
      return { task, question: `Give the box of the small ${name}.`, answer: formatBox(o.box, convention, size) };
    case 'word':
      return { task, question: `What word is written on the small ${o.colour} sign?`, answer: o.word ?? '' };
  }
}

function toObject(o: SceneObject): PerceptionObject {
  return { colour: o.colour, shape: o.shape, box: o.box, ...(o.word ? { word: o.word } : {}) };
}

/**
 * Scene `index` of a pool: every object has its own colour and its own shape, so any of the
 * names the questions use picks out exactly one. A `word` task adds a sign (with its own colour).
 */
export function perceptionItem(
  seed: number,
  pool: string,
  index: number,
  spec: PerceptionSceneSpec,
  convention: CoordConvention,
): { item: PerceptionItem; scene: Scene } {
  if (spec.tasks.length === 0) throw new RangeError('a perception stage needs at least one task');
  const rng = new Prng(seed, hashString(pool), index, 0x9e7c);
  for (let attempt = 0; ; attempt++) {
    const canvas = pickCanvas(rng, spec.size);
    const px = targetSize(canvas.width, canvas.height, { targetScale: spec.targetScale, minTargetPx: 8 });
    const scene = emptyScene(rng, canvas.width, canvas.height, px);
    if (!spec.clutter) scene.clutter = [];
    const n = 1 + rng.int(spec.distractors.min, spec.distractors.max);
    const colours = rng.sample(COLOUR_NAMES, Math.min(COLOUR_NAMES.length, n + 1));
    const shapes = rng.sample(SHAPES, Math.min(SHAPES.length, n));
    const withSign = spec.tasks.includes('word');
    try {
      const placed: SceneObject[] = [];
      if (withSign)
        placed.push(
          placeObject(rng, scene, {
            shape: 'sign',
            colour: colours[n] as ColourName,
            size: px * rng.range(0.9, 1.1),
            word: rng.pick(WORDS),
          }),
        );
      for (let i = 0; i < n; i++)
        placed.push(
          placeObject(rng, scene, { shape: shapes[i] as ShapeName, colour: colours[i] as ColourName, size: px * rng.range(0.9, 1.1) }),
        );
      const objects = placed.map(toObject);
      const size = { width: canvas.width, height: canvas.height };
      const shapesAt = objects.map((o, i) => (o.shape === 'sign' ? -1 : i)).filter((i) => i >= 0);
      const questions = spec.tasks.map((task) => {
        const object = task === 'word' ? 0 : (rng.pick(shapesAt) as number);
        return { ...askAbout(task, objects[object] as PerceptionObject, size, convention), object };
      });
      return {
        item: { id: `${pool}-${String(index).padStart(6, '0')}`, width: canvas.width, height: canvas.height, objects, questions },
        scene,
      };
    } catch (err) {
      if (!(err instanceof PlacementError) || attempt >= 20) throw err;
    }
  }
}

/** Every question and answer text the tasks can produce, for training a tokenizer. */
export function perceptionCorpus(convention: CoordConvention): string[] {
  const lines: string[] = [];
  const size = { width: 1000, height: 1000 };
  for (const colour of COLOUR_NAMES) {
    for (const shape of SHAPES) {
      const o: PerceptionObject = { colour, shape, box: [100, 100, 300, 300] };
      for (const task of ['colour', 'shape', 'place', 'box'] as const) {
        const q = askAbout(task, o, size, convention);
        lines.push(q.question, q.answer);
      }
    }
    for (const word of WORDS) {
      const q = askAbout('word', { colour, shape: 'sign', box: [0, 0, 10, 10], word }, size, convention);
      lines.push(q.question, q.answer);
    }
  }
  return lines;
}
