/**
 * The pure synthetic generator: given (seed, split, index) it lays out a scene
 * and writes one question with its answer, evidence boxes and reference traces.
 * No rendering and no I/O here, so it is deterministic and unit-testable.
 */
import type { CoordConvention, DatasetRecord, QuestionFamily } from '../../core/types';
import { Prng, hashString } from './prng';
import {
  DEFAULT_SIZING,
  PlacementError,
  emptyScene,
  pickCanvas,
  placeObject,
  targetSize,
  type PlacementArea,
  type Scene,
  type SceneObject,
  type SceneSizing,
} from './scene';
import { groundedTrace, textualTrace, type TracePlan, type TraceSentence } from './traces';
import {
  COLOUR_NAMES,
  COUNT_OPTIONS,
  HALVES,
  LETTERS,
  RELATIONS,
  SHAPES,
  WORDS,
  type ColourName,
  type Half,
  type Relation,
  type ShapeName,
} from './vocabulary';

/** Bump when a change alters any generated record or image, so cached datasets re-render. */
export const GENERATOR_VERSION = 1;

export type SplitName = 'train' | 'val' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];

export type SyntheticFamily = Exclude<QuestionFamily, 'other'>;
export const SYNTHETIC_FAMILIES: readonly SyntheticFamily[] = ['attribute', 'text', 'position', 'count'];

export interface GenerateOptions {
  /** Long side of the canvas in pixels. */
  size: number;
  convention: CoordConvention;
  families: readonly SyntheticFamily[];
  sizing: SceneSizing;
  /** Share of questions asked free-form instead of multiple choice. */
  freeFormRatio: number;
  /** Distractor objects per scene, drawn uniformly from this range (plus more on very large canvases). */
  distractors: DistractorRange;
  /**
   * How a reference trace answers a multiple-choice question: by the option's letter ("B"), or by
   * the option's text ("red"), which the grader maps to its letter. The record's answer is the
   * letter either way.
   */
  optionAnswer: OptionAnswer;
  /** Share of attribute questions that ask the shape rather than the colour (default one half). */
  shapeShare?: number;
}

export const OPTION_ANSWERS = ['letter', 'text'] as const;
export type OptionAnswer = (typeof OPTION_ANSWERS)[number];

export interface DistractorRange {
  min: number;
  max: number;
}

export const DEFAULT_GENERATE_OPTIONS: GenerateOptions = {
  size: 2048,
  convention: 'qwen25-abs',
  families: SYNTHETIC_FAMILIES,
  sizing: DEFAULT_SIZING,
  freeFormRatio: 0.25,
  distractors: { min: 2, max: 4 },
  optionAnswer: 'letter',
};

export interface GeneratedItem {
  record: DatasetRecord;
  scene: Scene;
}

/** A question before the answer layout: the value asked for and the evidence plan. */
interface Question {
  question: string;
  /** Option texts in A..D order, when multiple choice. */
  options?: string[];
  answer: string;
  evidence: SceneObject[];
  labels: string[];
  reasoning: TraceSentence[];
}

type Kind = { colour: ColourName; shape: ShapeName };

export function recordId(split: string, index: number): string {
  return `${split}-${String(index).padStart(6, '0')}`;
}

/**
 * The slot (0..3) of the correct option for record `index`: each block of four
 * consecutive records uses every slot once, so answer letters stay balanced.
 */
export function answerSlot(seed: number, split: string, index: number): number {
  const block = Math.floor(index / 4);
  const perm = new Prng(seed, hashString(split), block, 0x5107).shuffle([0, 1, 2, 3]);
  return perm[index % 4] as number;
}

/** Options with the correct value at `slot` and three other values from `pool`. */
function optionsWithAnswer(rng: Prng, pool: readonly string[], correct: string, slot: number): string[] {
  const others = rng.sample(
    pool.filter((v) => v !== correct),
    3,
  );
  others.splice(slot, 0, correct);
  return others;
}

function randomKind(rng: Prng, reject: (k: Kind) => boolean): Kind {
  for (;;) {
    const k = { colour: rng.pick(COLOUR_NAMES), shape: rng.pick(SHAPES) };
    if (!reject(k)) return k;
  }
}

function addDistractors(rng: Prng, scene: Scene, size: number, n: number, reject: (k: Kind) => boolean): void {
  for (let i = 0; i < n; i++) {
    const k = randomKind(rng, reject);
    placeObject(rng, scene, { ...k, size: size * rng.range(0.9, 1.1) });
  }
}

function distractorCount(rng: Prng, scene: Scene, d: DistractorRange): number {
  return rng.int(d.min, d.max) + Math.floor((scene.width * scene.height) / 1_500_000);
}

const jitter = (rng: Prng, size: number): number => size * rng.range(0.9, 1.1);

const RELATION_WORDS: Record<Relation, string> = { left: 'left of', right: 'right of', above: 'above', below: 'below' };

/**
 * The sentences of a reference trace that state what was seen. Perception pretraining can answer
 * in them too (`answerForm: sentence`), so the words it learns to write are the trace's own tokens.
 */
export const SEEN = {
  colour: (colour: string): string => `It is ${colour}.`,
  shape: (shape: string): string => `It is a ${shape}.`,
  word: (word: string): string => `It reads ${word}.`,
  relation: (nameA: string, relation: Relation, nameB: string): string => `So the ${nameA} is ${RELATION_WORDS[relation]} the ${nameB}.`,
};

function attribute(rng: Prng, scene: Scene, size: number, slot: number, mc: boolean, d: DistractorRange, shapeShare = 0.5): Question {
  if (rng.next() < 1 - shapeShare) {
    // "What colour is the small star?": the only star in the scene.
    const target = placeObject(rng, scene, { shape: rng.pick(SHAPES), colour: rng.pick(COLOUR_NAMES), size: jitter(rng, size) });
    addDistractors(rng, scene, size, distractorCount(rng, scene, d), (k) => k.shape === target.shape);
    return {
      question: `What colour is the small ${target.shape}?`,
      options: mc ? optionsWithAnswer(rng, COLOUR_NAMES, target.colour, slot) : undefined,
      answer: target.colour,
      evidence: [target],
      labels: [target.shape],
      reasoning: [
        { text: `I look for the small ${target.shape}.` },
        { text: `It is`, cite: target.box },
        { text: SEEN.colour(target.colour) },
      ],
    };
  }
  // "What shape is the small red object?": the only red object in the scene.
  const target = placeObject(rng, scene, { shape: rng.pick(SHAPES), colour: rng.pick(COLOUR_NAMES), size: jitter(rng, size) });
  addDistractors(rng, scene, size, distractorCount(rng, scene, d), (k) => k.colour === target.colour);
  return {
    question: `What shape is the small ${target.colour} object?`,
    options: mc ? optionsWithAnswer(rng, SHAPES, target.shape as string, slot) : undefined,
    answer: target.shape,
    evidence: [target],
    labels: [`${target.colour} object`],
    reasoning: [
      { text: `I look for the small ${target.colour} object.` },
      { text: `It is`, cite: target.box },
      { text: SEEN.shape(target.shape) },
    ],
  };
}

function text(rng: Prng, scene: Scene, size: number, slot: number, mc: boolean, d: DistractorRange): Question {
  const colours = rng.sample(COLOUR_NAMES, 3);
  const words = rng.sample(WORDS, 3);
  const target = placeObject(rng, scene, { shape: 'sign', colour: colours[0]!, size: jitter(rng, size), word: words[0]! });
  const decoys = rng.int(0, 2);
  for (let i = 1; i <= decoys; i++)
    placeObject(rng, scene, { shape: 'sign', colour: colours[i]!, size: jitter(rng, size), word: words[i]! });
  addDistractors(rng, scene, size, distractorCount(rng, scene, d), () => false);
  const word = target.word as string;
  return {
    question: `What word is written on the small ${target.colour} sign?`,
    options: mc ? optionsWithAnswer(rng, WORDS, word, slot) : undefined,
    answer: word,
    evidence: [target],
    labels: [`${target.colour} sign`],
    reasoning: [{ text: `I look for the small ${target.colour} sign.` }, { text: `It is`, cite: target.box }, { text: SEEN.word(word) }],
  };
}

function position(rng: Prng, scene: Scene, size: number, slot: number, mc: boolean, d: DistractorRange): Question {
  const relation = RELATIONS[slot] as Relation;
  const [shapeA, shapeB] = rng.sample(SHAPES, 2) as [ShapeName, ShapeName];
  const [colourA, colourB] = rng.sample(COLOUR_NAMES, 2) as [ColourName, ColourName];
  const { width: w, height: h } = scene;
  const gap = size * 3;
  // Put the reference object where the first one still has room on the asked side.
  const roomFor: Record<Relation, PlacementArea> = {
    left: { x1: w * 0.35, y1: 0, x2: w, y2: h },
    right: { x1: 0, y1: 0, x2: w * 0.65, y2: h },
    above: { x1: 0, y1: h * 0.35, x2: w, y2: h },
    below: { x1: 0, y1: 0, x2: w, y2: h * 0.65 },
  };
  const b = placeObject(rng, scene, { shape: shapeB, colour: colourB, size: jitter(rng, size) }, roomFor[relation]);
  // The relation must be unambiguous: the main axis offset clearly dominates the other.
  const clear = (o: SceneObject): boolean => {
    const dx = o.cx - b.cx;
    const dy = o.cy - b.cy;
    const along = relation === 'left' ? -dx : relation === 'right' ? dx : relation === 'above' ? -dy : dy;
    const across = relation === 'left' || relation === 'right' ? Math.abs(dy) : Math.abs(dx);
    return along >= gap && across <= along * 0.5;
  };
  const a = placeObject(rng, scene, { shape: shapeA, colour: colourA, size: jitter(rng, size) }, undefined, clear);
  addDistractors(
    rng,
    scene,
    size,
    distractorCount(rng, scene, d),
    (k) => (k.colour === colourA && k.shape === shapeA) || (k.colour === colourB && k.shape === shapeB),
  );
  const nameA = `${colourA} ${shapeA}`;
  const nameB = `${colourB} ${shapeB}`;
  return {
    question: `Where is the small ${nameA} relative to the small ${nameB}?`,
    options: mc ? [...RELATIONS] : undefined,
    answer: relation,
    evidence: [a, b],
    labels: [nameA, nameB],
    reasoning: [
      { text: `The small ${nameA} is`, cite: a.box },
      { text: `The small ${nameB} is`, cite: b.box },
      { text: SEEN.relation(nameA, relation, nameB) },
    ],
  };
}

function halfArea(half: Half, w: number, h: number, margin: number): PlacementArea {
  switch (half) {
    case 'left':
      return { x1: 0, y1: 0, x2: w / 2 - margin, y2: h };
    case 'right':
      return { x1: w / 2 + margin, y1: 0, x2: w, y2: h };
    case 'top':
      return { x1: 0, y1: 0, x2: w, y2: h / 2 - margin };
    case 'bottom':
      return { x1: 0, y1: h / 2 + margin, x2: w, y2: h };
  }
}

const OPPOSITE: Record<Half, Half> = { left: 'right', right: 'left', top: 'bottom', bottom: 'top' };

function count(rng: Prng, scene: Scene, size: number, slot: number, mc: boolean, d: DistractorRange): Question {
  const n = slot + 1;
  const half = rng.pick(HALVES);
  const kind: Kind = { colour: rng.pick(COLOUR_NAMES), shape: rng.pick(SHAPES) };
  // Centres keep a margin from the dividing line so "in the half" is never borderline.
  const inside = Array.from({ length: n }, () =>
    placeObject(rng, scene, { ...kind, size: jitter(rng, size) }, halfArea(half, scene.width, scene.height, size)),
  );
  const outside = rng.int(0, 2);
  for (let i = 0; i < outside; i++)
    placeObject(rng, scene, { ...kind, size: jitter(rng, size) }, halfArea(OPPOSITE[half], scene.width, scene.height, size));
  addDistractors(rng, scene, size, distractorCount(rng, scene, d), (k) => k.colour === kind.colour && k.shape === kind.shape);
  inside.sort((p, q) => p.cy - q.cy || p.cx - q.cx);
  const name = `${kind.colour} ${kind.shape}s`;
  return {
    question: `How many small ${name} are in the ${half} half of the image?`,
    options: mc ? [...COUNT_OPTIONS] : undefined,
    answer: String(n),
    evidence: inside,
    labels: inside.map(() => `${kind.colour} ${kind.shape}`),
    reasoning: [
      { text: `I count the small ${name} in that half.` },
      ...inside.map((o) => ({ text: 'One is', cite: o.box })),
      { text: `That makes ${n}.` },
    ],
  };
}

const BUILDERS: Record<
  SyntheticFamily,
  (rng: Prng, scene: Scene, size: number, slot: number, mc: boolean, d: DistractorRange, shapeShare?: number) => Question
> = {
  attribute,
  text,
  position,
  count,
};

/** Layouts tried before an item gives up; a relation question on a short canvas may need dozens. */
const MAX_LAYOUTS = 400;

/** Generates record `index` of `split`. Same arguments, same record and scene. */
export function generateItem(seed: number, split: SplitName, index: number, opts: GenerateOptions): GeneratedItem {
  if (opts.families.length === 0) throw new RangeError('at least one question family is needed');
  const family = opts.families[index % opts.families.length] as SyntheticFamily;
  const slot = answerSlot(seed, split, index);
  // A layout can run out of room (a wide relation on a short canvas); the next attempt draws a fresh
  // layout, canvas included, from the same stream, so items that fit early never change.
  const rng = new Prng(seed, hashString(split), index, 0xda7a);
  for (let attempt = 0; ; attempt++) {
    const canvas = pickCanvas(rng, opts.size);
    const size = targetSize(canvas.width, canvas.height, opts.sizing);
    const scene = emptyScene(rng, canvas.width, canvas.height, size);
    const mc = rng.next() >= opts.freeFormRatio;
    try {
      const q = BUILDERS[family](rng, scene, size, slot, mc, opts.distractors, opts.shapeShare);
      const at = { seed, split, index, family, convention: opts.convention, optionAnswer: opts.optionAnswer };
      return { record: toRecord(q, scene, at), scene };
    } catch (err) {
      if (!(err instanceof PlacementError) || attempt >= MAX_LAYOUTS) throw err;
    }
  }
}

function toRecord(
  q: Question,
  scene: Scene,
  at: {
    seed: number;
    split: SplitName;
    index: number;
    family: SyntheticFamily;
    convention: CoordConvention;
    optionAnswer: OptionAnswer;
  },
): DatasetRecord {
  const id = recordId(at.split, at.index);
  const size = { width: scene.width, height: scene.height };
  const answer = q.options ? (LETTERS[q.options.indexOf(q.answer)] as string) : q.answer;
  const byLetter = q.options !== undefined && at.optionAnswer === 'letter';
  const sentences = byLetter ? [...q.reasoning, { text: `It matches option ${answer}.` }] : q.reasoning;
  const plan: TracePlan = { sentences, answer: byLetter ? answer : q.answer };
  const record: DatasetRecord = {
    id,
    image: `images/${at.split}/${id}.png`,
    width: scene.width,
    height: scene.height,
    question: q.question,
    answer,
    evidence: q.evidence.map((o) => o.box),
    evidenceLabels: q.labels,
    family: at.family,
    split: at.split,
    reference: { textual: textualTrace(plan, size), grounded: groundedTrace(plan, size, at.convention) },
    meta: { seed: at.seed, index: at.index, generator: GENERATOR_VERSION, answerText: q.answer },
  };
  if (q.options) record.options = q.options;
  return record;
}
