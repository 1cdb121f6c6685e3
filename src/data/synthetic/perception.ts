/**
 * Perception tasks for pretraining a model from random weights: short questions about one
 * object of a synthetic scene (its colour, shape, place, box or the word on it), answered
 * in a few tokens. Scenes come from the benchmark's own layout and renderer, so the
 * pretrained model sees the pictures the benchmark asks about. Pure: no rendering, no I/O.
 */
import type { Box, CoordConvention, Stream } from '../../core/types';
import {
  SEEN,
  SYNTHETIC_FAMILIES,
  generateItem,
  type GenerateOptions,
  type GeneratedItem,
  type OptionAnswer,
  type SyntheticFamily,
} from './generate';
import { describeRegion } from '../../core/regions';
import { Prng, hashString } from './prng';
import { PlacementError, emptyScene, pickCanvas, placeObject, targetSize, type Scene, type SceneObject } from './scene';
import { formatBox, renderSentence } from './traces';
import { COLOUR_NAMES, LETTERS, RELATIONS, SHAPES, WORDS, type ColourName, type Relation, type ShapeName } from './vocabulary';

export const PERCEPTION_TASKS = ['colour', 'shape', 'place', 'box', 'word', 'relation', 'trace', 'match', 'copy'] as const;
export type PerceptionTask = (typeof PERCEPTION_TASKS)[number];

/** How a perception question's answer is written (see `PerceptionSceneSpec.answerForm`). */
export const ANSWER_FORMS = ['value', 'sentence'] as const;
export type AnswerForm = (typeof ANSWER_FORMS)[number];

/** How a place or box question names its object: by colour and shape, or by one of them (see `PerceptionSceneSpec.naming`). */
export const NAMINGS = ['both', 'colour', 'shape'] as const;
export type Naming = (typeof NAMINGS)[number];

/** Tasks asked without an image. */
export const TEXT_ONLY_TASKS = ['match', 'copy'] as const satisfies readonly PerceptionTask[];

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
  /**
   * Share of colour, shape, word and relation questions asked with options A–D in the benchmark's
   * format (the benchmark asks three in four questions so).
   */
  optionsRatio: number;
  /** Whether a question with options is answered by the option's letter or by its text. */
  optionAnswer: OptionAnswer;
  /**
   * `value` answers a colour, shape, word, place, box or relation question with the value alone
   * ("yellow"); `sentence` with the reference trace's sentence that states it ("It is yellow."), so
   * the readout is learnt on the tokens a trace writes. An answer by option letter stays a letter.
   */
  answerForm?: AnswerForm;
  /**
   * How place and box questions name their object, one drawn per question (default `both`: "the
   * small red star"). The benchmark's colour questions name the object by its shape alone and its
   * shape questions by colour alone, so a trace must find it by either name.
   */
  naming?: readonly Naming[];
  /** For `trace` and `copy`: the benchmark's question families the questions are drawn from. */
  families?: readonly SyntheticFamily[];
  /** For `trace` and `copy`: share of attribute questions that ask the shape (default one half). */
  shapeShare?: number;
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
  /** Index into the item's objects of the object asked about (for a relation, the first one). */
  object: number;
  /** Every object the question is about, when more than one (a relation's two, a trace's evidence). */
  objects?: number[];
  /** For `trace`: the stream whose reference trace is the answer (its instruction line is added to the question). */
  stream?: Stream;
  /**
   * For `match`: the start of the assistant's turn, given rather than learnt; the answer continues
   * it. A `match` question is text only: no image.
   */
  prefix?: string;
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
  task: Exclude<PerceptionTask, 'relation' | 'trace' | 'match' | 'copy'>,
  o: PerceptionObject,
  size: { width: number; height: number },
  convention: CoordConvention,
  naming: Naming = 'both',
): Omit<PerceptionQuestion, 'object'> {
  const name = naming === 'colour' ? `${o.colour} object` : naming === 'shape' ? o.shape : `${o.colour} ${o.shape}`;
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

/**
 * How `a` lies relative to `b`, when one axis clearly dominates (as the benchmark's position
 * questions require): the main offset at least `gap` and the other at most half of it.
 */
export function clearRelation(a: Box, b: Box, gap: number): Relation | null {
  const dx = (a[0] + a[2]) / 2 - (b[0] + b[2]) / 2;
  const dy = (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2;
  if (Math.abs(dx) >= gap && Math.abs(dy) <= Math.abs(dx) * 0.5) return dx < 0 ? 'left' : 'right';
  if (Math.abs(dy) >= gap && Math.abs(dx) <= Math.abs(dy) * 0.5) return dy < 0 ? 'above' : 'below';
  return null;
}

/** The question with options A–D in the benchmark's format, answered by the option's letter or its text. */
function withOptions(
  rng: Prng,
  q: Omit<PerceptionQuestion, 'object'>,
  pool: readonly string[],
  answerBy: OptionAnswer,
): Omit<PerceptionQuestion, 'object'> {
  const options =
    pool === RELATIONS
      ? [...RELATIONS]
      : rng.shuffle([
          q.answer,
          ...rng.sample(
            pool.filter((v) => v !== q.answer),
            3,
          ),
        ]);
  const answer = answerBy === 'letter' ? (LETTERS[options.indexOf(q.answer)] as string) : q.answer;
  return { ...q, question: q.question + optionsText(options), answer };
}

const OPTION_POOLS: Partial<Record<PerceptionTask, readonly string[]>> = {
  colour: COLOUR_NAMES,
  shape: SHAPES,
  word: WORDS,
  relation: RELATIONS,
};

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
): { item: PerceptionItem; scene: Scene | null } {
  if (spec.tasks.length === 0) throw new RangeError('a perception stage needs at least one task');
  for (const only of ['trace', 'match', 'copy'] as const)
    if (spec.tasks.includes(only) && spec.tasks.length > 1)
      throw new RangeError(`a ${only} stage asks ${only} questions only (mix perception questions in with replay)`);
  if (spec.tasks.includes('trace')) return traceItem({ seed, pool, index }, spec, convention);
  // A text-only item has no scene: nothing is rendered for it.
  if (spec.tasks.includes('match'))
    return { item: matchItem(new Prng(seed, hashString(pool), index, 0x3a7c), itemId(pool, index)), scene: null };
  if (spec.tasks.includes('copy')) return { item: copyItem({ seed, pool, index }, spec, convention), scene: null };
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
      const questions = spec.tasks.map((task): PerceptionQuestion => {
        const pair = task === 'relation' ? relationPair(rng, objects, shapesAt, px * 1.5) : null;
        const object = task === 'word' ? 0 : (pair?.[0] ?? (rng.pick(shapesAt) as number));
        const asked = pair
          ? askRelation(objects[pair[0]] as PerceptionObject, objects[pair[1]] as PerceptionObject, pair[2])
          : askAbout(
              task === 'relation' || task === 'trace' || task === 'match' || task === 'copy' ? 'place' : task,
              objects[object] as PerceptionObject,
              size,
              convention,
              // Drawn only when asked for, so pools without `naming` stay as they were.
              spec.naming && (task === 'place' || task === 'box') ? (rng.pick(spec.naming) as Naming) : 'both',
            );
        const pool = OPTION_POOLS[asked.task];
        const options = pool !== undefined && rng.next() < spec.optionsRatio;
        const q = options ? withOptions(rng, asked, pool, spec.optionAnswer) : asked;
        const byLetter = options && spec.optionAnswer === 'letter';
        const a = objects[object] as PerceptionObject;
        const answer =
          spec.answerForm === 'sentence' && !byLetter
            ? seenSentence(q, a, pair ? (objects[pair[1]] as PerceptionObject) : null, size, convention)
            : q.answer;
        return { ...q, answer, object, ...(pair ? { objects: [pair[0], pair[1]] } : {}) };
      });
      return {
        item: {
          id: itemId(pool, index),
          width: canvas.width,
          height: canvas.height,
          objects,
          questions,
        },
        scene,
      };
    } catch (err) {
      if (!(err instanceof PlacementError) || attempt >= 20) throw err;
    }
  }
}

function itemId(pool: string, index: number): string {
  return `${pool}-${String(index).padStart(6, '0')}`;
}

/** A benchmark record and its scene (src/data/synthetic/generate.ts), drawn from the pool's own seed. */
function benchmarkItem(
  at: { seed: number; pool: string; index: number },
  spec: PerceptionSceneSpec,
  convention: CoordConvention,
): GeneratedItem {
  return generateWithRoom((at.seed ^ hashString(at.pool)) >>> 0, at.index, {
    size: spec.size,
    convention,
    families: spec.families ?? SYNTHETIC_FAMILIES,
    sizing: { targetScale: spec.targetScale, minTargetPx: 16 },
    freeFormRatio: 1 - spec.optionsRatio,
    distractors: spec.distractors,
    optionAnswer: spec.optionAnswer,
    shapeShare: spec.shapeShare,
  });
}

/** The options as the benchmark's prompt lists them after the question: " A. red B. blue …". */
function optionsText(options: readonly string[] | undefined): string {
  return options ? ` ${options.map((o, i) => `${LETTERS[i]}. ${o}`).join(' ')}` : '';
}

/**
 * A benchmark question (src/data/synthetic/generate.ts) answered by both streams' reference
 * traces, so the lookup the perception tasks teach is learnt where a trace needs it.
 */
function traceItem(
  at: { seed: number; pool: string; index: number },
  spec: PerceptionSceneSpec,
  convention: CoordConvention,
): { item: PerceptionItem; scene: Scene } {
  const { pool, index } = at;
  const { record, scene } = benchmarkItem(at, spec, convention);
  const objects = scene.objects.map(toObject);
  const evidence = record.evidence.map((b) => objects.findIndex((o) => o.box.every((v, i) => v === b[i])));
  const options = optionsText(record.options);
  const questions = (['textual', 'grounded'] as const).map((stream) => ({
    task: 'trace' as const,
    question: record.question + options,
    answer: record.reference?.[stream] ?? '',
    object: evidence[0] ?? 0,
    objects: evidence.filter((k) => k >= 0),
    stream,
  }));
  return {
    item: { id: itemId(pool, index), width: scene.width, height: scene.height, objects, questions },
    scene,
  };
}

/** The instruction before a `copy` question. */
export const COPY_INSTRUCTION = 'Repeat the question:';

/**
 * A benchmark question without its picture, answered by repeating it word for word. A trace starts
 * by copying the asked object out of the question ("What colour is the small diamond?" -> "I look
 * for the small diamond."); with the picture in view the tiny model names an object it sees
 * instead. Here only the question's own words can answer, so the copy (induction) is learnt first.
 */
function copyItem(
  at: { seed: number; pool: string; index: number },
  spec: PerceptionSceneSpec,
  convention: CoordConvention,
): PerceptionItem {
  const { record } = benchmarkItem(at, spec, convention);
  const options = optionsText(record.options);
  return {
    id: itemId(at.pool, at.index),
    width: 0,
    height: 0,
    objects: [],
    questions: [{ task: 'copy', question: `${COPY_INSTRUCTION} ${record.question}${options}`, answer: record.question, object: -1 }],
  };
}

/** A scene that fits: large objects on a small canvas rarely leave no room, and then the next seed is drawn. */
function generateWithRoom(seed: number, index: number, opts: GenerateOptions): GeneratedItem {
  for (let attempt = 0; ; attempt++) {
    try {
      return generateItem((seed + attempt * 0x9e3779b1) >>> 0, 'train', index, opts);
    } catch (err) {
      if (!(err instanceof PlacementError) || attempt >= 20) throw err;
    }
  }
}

/** How a reference trace states a value before it names the option (src/data/synthetic/generate.ts). */
const STATED: Record<'colour' | 'shape' | 'word', (v: string) => string> = {
  colour: (v) => `It is ${v}.`,
  shape: (v) => `It is a ${v}.`,
  word: (v) => `It reads ${v}.`,
};

/**
 * A text-only question in the benchmark's options format whose value is already stated at the
 * start of the answer, as a reference trace states it: "... It is a cross. It matches option" is
 * given and " D." is learnt. This is the step from a value read off the image to its letter: a
 * lookup in the question's own text that the tiny model does not learn from traces alone.
 */
function matchItem(rng: Prng, id: string): PerceptionItem {
  const kind = rng.pick(['colour', 'shape', 'word'] as const);
  const pool: readonly string[] = kind === 'colour' ? COLOUR_NAMES : kind === 'shape' ? SHAPES : WORDS;
  const value = rng.pick(pool);
  const asked =
    kind === 'colour'
      ? `What colour is the small ${rng.pick(SHAPES)}?`
      : kind === 'shape'
        ? `What shape is the small ${rng.pick(COLOUR_NAMES)} object?`
        : `What word is written on the small ${rng.pick(COLOUR_NAMES)} sign?`;
  const q = withOptions(rng, { task: 'match', question: asked, answer: value }, pool, 'letter');
  return {
    id,
    width: 0,
    height: 0,
    objects: [],
    questions: [
      {
        ...q,
        answer: ` ${q.answer}.</think><answer>${q.answer}</answer>`,
        object: -1,
        prefix: `<think>${STATED[kind](value)} It matches option`,
      },
    ],
  };
}

function askRelation(a: PerceptionObject, b: PerceptionObject, relation: Relation): Omit<PerceptionQuestion, 'object'> {
  return {
    task: 'relation',
    question: `Where is the small ${a.colour} ${a.shape} relative to the small ${b.colour} ${b.shape}?`,
    answer: relation,
  };
}

/** The reference trace's sentence stating `q`'s answer about `a` (and `b`, a relation's second object). */
function seenSentence(
  q: Omit<PerceptionQuestion, 'object'>,
  a: PerceptionObject,
  b: PerceptionObject | null,
  size: { width: number; height: number },
  convention: CoordConvention,
): string {
  switch (q.task) {
    case 'colour':
      return SEEN.colour(q.answer);
    case 'shape':
      return SEEN.shape(q.answer);
    case 'word':
      return SEEN.word(q.answer);
    case 'relation':
      if (!b) throw new RangeError('a relation question needs its second object');
      return SEEN.relation(`${a.colour} ${a.shape}`, q.answer as Relation, `${b.colour} ${b.shape}`);
    case 'place':
      return renderSentence({ text: 'It is', cite: a.box }, size, null);
    case 'box':
      // As a grounded trace cites a region: its words, then its box.
      return renderSentence({ text: 'It is', cite: a.box }, size, convention);
    default:
      return q.answer;
  }
}

/** Two objects in a clear relation, or null (the question then asks a place instead). */
function relationPair(rng: Prng, objects: PerceptionObject[], candidates: number[], gap: number): [number, number, Relation] | null {
  const pairs: Array<[number, number, Relation]> = [];
  for (const i of candidates) {
    for (const j of candidates) {
      const r = i === j ? null : clearRelation((objects[i] as PerceptionObject).box, (objects[j] as PerceptionObject).box, gap);
      if (r) pairs.push([i, j, r]);
    }
  }
  return pairs.length > 0 ? (rng.pick(pairs) as [number, number, Relation]) : null;
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
    const a: PerceptionObject = { colour, shape: 'star', box: [0, 0, 1, 1] };
    lines.push(askRelation(a, { ...a, shape: 'circle' }, 'left').question);
  }
  lines.push(RELATIONS.map((r, i) => `${LETTERS[i]}. ${r}`).join(' '), ...RELATIONS, ...LETTERS);
  return lines;
}
