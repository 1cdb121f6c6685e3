/**
 * The perception pretraining recipe (`ivgr pretrain <config>`): the model's size and position
 * knobs, a curriculum of scene stages, the optimiser and the weights of the pretraining-only
 * training aids. Every field has a default; the defaults are the shipped recipe
 * (configs/pretrain-tiny.yaml).
 */
import { z } from 'zod';
import { COORD_CONVENTIONS } from '../core/types';
import { OPTION_ANSWERS, SYNTHETIC_FAMILIES } from '../data/synthetic/generate';
import { ANSWER_FORMS, NAMINGS, PERCEPTION_TASKS } from '../data/synthetic/perception';

const positiveInt = z.number().int().positive();

/** The side in pixels of the square one visual token covers: patch 14 × merge 2. */
export const TOKEN_SIDE_PX = 28;
const nonNegative = z.number().nonnegative();

const modelSchema = z.strictObject({
  /** Side of the square image the model sees (a multiple of patch 14 × merge 2). */
  imageSize: positiveInt.refine((v) => v % TOKEN_SIDE_PX === 0, `a multiple of ${TOKEN_SIDE_PX} (patch 14 × merge 2)`).default(224),
  hidden: positiveInt.default(256),
  layers: positiveInt.default(4),
  heads: positiveInt.default(4),
  kvHeads: positiveInt.default(2),
  intermediate: positiveInt.default(640),
  /** M-RoPE base: a low base tells a few dozen visual tokens' rows and columns apart. */
  ropeTheta: z.number().positive().default(10),
  visionDepth: positiveInt.default(2),
  visionHidden: positiveInt.default(128),
  visionHeads: positiveInt.default(4),
});

const sceneSchema = z.strictObject({
  /** Long side of the rendered canvas in pixels. */
  size: z.number().int().min(64).max(4096).default(224),
  /** Object size as a fraction of sqrt(width × height). */
  targetScale: z.number().gt(0).max(0.4).default(0.2),
  distractors: z
    .strictObject({ min: z.number().int().min(0).max(4), max: z.number().int().min(0).max(4) })
    .refine((d) => d.max >= d.min, 'max must be at least min')
    .default({ min: 1, max: 2 }),
  tasks: z
    .array(z.enum(PERCEPTION_TASKS))
    .min(1)
    .superRefine((tasks, ctx) => {
      // A trace, match or copy item is a question of its own kind; other questions join such a stage by replay.
      for (const only of ['trace', 'match', 'copy'] as const)
        if (tasks.includes(only) && tasks.length > 1)
          ctx.addIssue({
            code: 'custom',
            message: `a ${only} stage asks ${only} questions only; draw others into it with 'replay' from an earlier stage`,
          });
    })
    .default(['colour', 'shape', 'place', 'box']),
  clutter: z.boolean().default(true),
  /** Share of colour, shape, word and relation questions asked with options A–D in the benchmark's format. */
  optionsRatio: z.number().min(0).max(1).default(0),
  /** How a question with options is answered: by its letter, or by the option's text (the grader accepts both). */
  optionAnswer: z.enum(OPTION_ANSWERS).default('letter'),
  /** `sentence`: answers in the reference trace's words ("It reads CUP.") instead of the value alone. */
  answerForm: z.enum(ANSWER_FORMS).default('value'),
  /**
   * How place and box questions name their object, one of these drawn per question: `both` ("the
   * small red star"), `colour` ("the small red object") or `shape` ("the small star").
   */
  naming: z.array(z.enum(NAMINGS)).min(1).optional(),
  /** For a `trace` or `copy` stage: the benchmark's question families (default: all four). */
  families: z.array(z.enum(SYNTHETIC_FAMILIES)).min(1).optional(),
  /**
   * For a `trace` or `copy` stage: share of attribute questions that ask the shape instead of the
   * colour (the benchmark's is one half). A family listed twice in `families` is drawn twice as often.
   */
  shapeShare: z.number().min(0).max(1).optional(),
});

const stageSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" or "-"'),
  steps: positiveInt,
  /** Scenes rendered for this stage (questions are drawn from them at random). */
  pool: positiveInt.default(2000),
  /** Share of each batch drawn from the earlier stages' pools, so earlier skills are kept. */
  replay: z.number().min(0).max(1).default(0.3),
  scene: sceneSchema.default(sceneSchema.parse({})),
});

export const pretrainConfigSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" or "-"')
      .default('pretrain'),
    seed: z.number().int().min(0).default(1),
    /** Coordinate convention of the boxes the model writes. */
    convention: z.enum(COORD_CONVENTIONS).default('qwen2-1000'),
    model: modelSchema.default(modelSchema.parse({})),
    /** Start from this model folder (relative to the recipe) instead of random weights; its size and tokenizer are kept. */
    init: z.string().min(1).optional(),
    batchSize: positiveInt.default(16),
    optimizer: z
      .strictObject({
        learningRate: z.number().positive().default(1e-3),
        minLearningRate: nonNegative.default(1e-4),
        warmupSteps: z.number().int().min(0).default(100),
        weightDecay: nonNegative.default(0.05),
        betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.95]),
        gradClip: z.number().positive().default(1),
      })
      .default({ learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 100, weightDecay: 0.05, betas: [0.9, 0.95], gradClip: 1 }),
    /** Weights of the training aids; 0 turns one off. */
    aux: z
      .strictObject({
        dense: nonNegative.default(1),
        object: nonNegative.default(1),
        position: nonNegative.default(0.5),
        attention: nonNegative.default(0.5),
        /** The word of a sign, read from the mean of its visual tokens (an object-level label like `object`'s). */
        word: nonNegative.default(0),
        /**
         * Copying from the question: a position whose next answer token stands in the question
         * attends there (the best head of layers 1 on), and the object attention skips it.
         */
        copy: nonNegative.default(0),
        /**
         * Of the attention the answer positions put on the scene's objects (layers 1 on), the
         * share on the asked one: the attention aid alone is met partly by looking at every object.
         */
        separate: nonNegative.default(0),
        /**
         * The same share for one attention head only, the one of layers 1 on that meets it best
         * across the batch: a head that looks up the named object, where averaging over heads asks
         * every head to.
         */
        find: nonNegative.default(0),
        /**
         * An extra loss on a trace's words that say where the object is ("near the top-left
         * corner"): a few tokens among dozens that the reference makes easy to predict.
         */
        region: nonNegative.default(0),
      })
      .default({ dense: 1, object: 1, position: 0.5, attention: 0.5, word: 0, copy: 0, separate: 0, find: 0, region: 0 }),
    /**
     * Training only: each question's text after the picture is moved 0 to this many positions
     * further from it (M-RoPE position ids), drawn per question and step, so that a lookup of
     * the picture by name cannot rest on one distance between the two.
     */
    positionJitter: z.number().int().min(0).default(0),
    /** Language-model layer whose hidden states the position target reads. */
    positionLayer: z.number().int().min(0).default(2),
    /** System prompt of every question: none, or the training runs' own (so the model meets it before its warm start). */
    system: z.enum(['none', 'worker']).default('worker'),
    stages: z.array(stageSchema).min(1),
    /** Held-out scenes per stage, scored every `evalEvery` steps. */
    heldOut: positiveInt.default(48),
    evalEvery: z.number().int().min(0).default(250),
    checkpointEvery: z.number().int().min(0).default(250),
    keepCheckpoints: positiveInt.default(2),
  })
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.stages.forEach((s, i) => {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['stages', i, 'name'], message: `stage name '${s.name}' is used twice` });
      names.add(s.name);
    });
  });

export type PretrainConfig = z.output<typeof pretrainConfigSchema>;
export type PretrainStage = PretrainConfig['stages'][number];

export function totalSteps(c: Pick<PretrainConfig, 'stages'>): number {
  return c.stages.reduce((n, s) => n + s.steps, 0);
}
