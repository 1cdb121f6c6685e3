/**
 * The run config: what a user writes (JSON or YAML) and the resolved form the
 * worker runs with. Every field has a default so `{}` is a valid config for the
 * embedded demo setting; `resolveConfig` fills them and the result goes to run.json.
 */
import { z } from 'zod';
import { OPTION_ANSWERS } from '../data/synthetic/generate';
import { trlSchema } from './trl-schema';

export const CONFIG_SCHEMA_VERSION = 1;

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();

const streamSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Samples per question in this stream (the GRPO group). */
  groupSize: positiveInt.default(4),
  temperature: nonNegative.default(1.0),
});

const datasetSchema = z.strictObject({
  /** A dataset folder or file (JSONL, V*Bench folder, HR-Bench TSV), relative to the config file. */
  path: z.string().min(1),
  format: z.string().optional(),
});

const namedDatasetSchema = datasetSchema.extend({
  /** Prefix of this dataset's record ids ("<name>/<id>"); default: the path's last part without extension. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" or "-"')
    .optional(),
});

const DEFAULT_DATASET: z.output<typeof datasetSchema> = { path: 'data/synthetic' };

/** One dataset of a run; `name` is null for the single `dataset` form, whose record ids stay as they are. */
export interface RunDataset {
  name: string | null;
  path: string;
  format?: string;
}

function defaultName(path: string): string {
  const last =
    path
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? path;
  return last.replace(/\.(jsonl|json|tsv)$/i, '') || 'dataset';
}

/** The datasets a run trains and evaluates on: `datasets` with their names, else `dataset`. */
export function runDatasets(config: Pick<RunConfig, 'dataset' | 'datasets'>): RunDataset[] {
  if (config.datasets) return config.datasets.map((d) => ({ ...d, name: d.name ?? defaultName(d.path) }));
  return [{ name: null, ...(config.dataset ?? DEFAULT_DATASET) }];
}

/** A synthetic benchmark the worker generates into `path` before training when it is missing. */
const syntheticSchema = z.strictObject({
  seed: z.number().int().default(7),
  counts: z.strictObject({ train: positiveInt.default(256), val: positiveInt.default(64), test: positiveInt.default(128) }).prefault({}),
  size: positiveInt.default(112),
  /** Question families to generate (default: all four). */
  families: z
    .array(z.enum(['attribute', 'text', 'position', 'count']))
    .min(1)
    .optional(),
  /** Target side as a fraction of sqrt(width · height) (default 0.04). */
  targetScale: z.number().positive().max(0.2).optional(),
  /** Share of free-form questions; the rest are multiple choice (default 0.25). */
  freeFormRatio: z.number().min(0).max(1).optional(),
  /** Distractor objects per scene, uniformly in [min, max] (default 2–4). */
  distractors: z
    .strictObject({ min: z.number().int().min(0), max: z.number().int().max(12) })
    .refine((d) => d.min <= d.max, 'min must not exceed max')
    .optional(),
  /** How the reference traces answer multiple choice: by the letter (default) or by the option's text. */
  optionAnswer: z.enum(OPTION_ANSWERS).optional(),
});

const configObject = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" or "-"')
    .optional(),
  /** A local model folder, or "builtin:tiny" for the embedded tiny Qwen2.5-VL. */
  model: z.string().min(1).default('builtin:tiny'),
  /**
   * The engine that evaluates (periodic evaluation and `ivgr eval`): torch, or ort (ONNX Runtime
   * inside the worker, on an ONNX export of the weights). Training always runs on PyTorch.
   */
  engine: z.enum(['torch', 'ort']).default('torch'),
  device: z.string().default('cpu'),
  dtype: z.enum(['float32', 'bfloat16', 'float16']).default('float32'),
  /** The one dataset (default data/synthetic); `datasets` instead mixes several. */
  dataset: datasetSchema.optional(),
  /** Several datasets: their training records are mixed, ids prefixed by the dataset's name. */
  datasets: z.array(namedDatasetSchema).min(1).optional(),
  /** Generated into `dataset.path` (or the first of `datasets`) when missing. */
  synthetic: syntheticSchema.nullable().default(null),
  /** Start from this checkpoint folder instead of the warm start (e.g. a shared SFT checkpoint for an ablation). */
  initFrom: z.string().nullable().default(null),
  splits: z.strictObject({ train: z.string().default('train'), eval: z.string().default('val') }).prefault({}),
  /** Reward weights (total = Σ weight · term) and the high-quality / consistency settings; see docs/METHOD.md. */
  rewards: z
    .strictObject({
      accuracy: nonNegative.default(1.0),
      format: nonNegative.default(0.5),
      grounding: nonNegative.default(0.5),
      consistency: nonNegative.default(0.5),
      tool: nonNegative.default(0),
      /** A grounded trace is a consistency reference when correct and its grounding reward reaches this. */
      highQualityMinIoU: z.number().min(0).max(1).default(0.5),
      /** Consistency = α · answer agreement + (1 − α) · localisation agreement. */
      consistencyAlpha: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  streams: z.strictObject({ grounded: streamSchema.prefault({}), textual: streamSchema.prefault({}) }).prefault({}),
  /** Questions per RL step. */
  batchSize: positiveInt.default(4),
  /**
   * Which questions follow each other in an RL epoch: `shuffled`, or `answer-balanced`, each
   * correct answer spread evenly so a few steps do not teach the answers they happened to draw.
   */
  batchOrder: z.enum(['shuffled', 'answer-balanced']).default('shuffled'),
  learningRate: z.number().positive().default(1e-5),
  klBeta: nonNegative.default(0.0),
  clipEpsilon: z.number().positive().max(1).default(0.2),
  maxTokens: positiveInt.default(64),
  steps: z.number().int().nonnegative().default(40),
  evalEvery: z.number().int().nonnegative().default(0),
  /** Questions of the eval split used by periodic evaluation (0 = all). */
  evalLimit: z.number().int().nonnegative().default(64),
  checkpointEvery: z.number().int().nonnegative().default(10),
  seed: z.number().int().default(1),
  sft: z
    .strictObject({
      steps: z.number().int().nonnegative().default(0),
      batchSize: positiveInt.default(8),
      learningRate: z.number().positive().default(1e-3),
    })
    .prefault({}),
  microBatch: positiveInt.default(8),
  maxGradNorm: z.number().positive().default(1.0),
  /** Engine restarts after a crash before the run gives up. */
  maxRestarts: z.number().int().nonnegative().default(2),
  /** Zoom calls allowed per answer in tool-assisted evaluation. */
  maxToolCalls: z.number().int().nonnegative().default(2),
  /** Who trains: this product's engine (default) or Hugging Face TRL's GRPOTrainer (docs/TRL.md). */
  trainer: z.enum(['ivgr', 'trl']).optional(),
  /** Launch settings when `trainer: trl`. */
  trl: trlSchema.optional(),
});

export const runConfigSchema = configObject
  .superRefine((c, ctx) => {
    if (c.dataset && c.datasets)
      ctx.addIssue({ code: 'custom', path: ['datasets'], message: 'use either "dataset" (one) or "datasets" (several), not both' });
    if (!c.datasets) return;
    const seen = new Map<string, number>();
    c.datasets.forEach((d, i) => {
      const name = d.name ?? defaultName(d.path);
      const first = seen.get(name);
      if (first !== undefined) {
        // A name derived from the path is reported on the path, which is where the line is.
        const field = d.name ? 'name' : 'path';
        ctx.addIssue({
          code: 'custom',
          path: ['datasets', i, field],
          message: `the name "${name}"${d.name ? '' : ' (from the path)'} is already the name of datasets.${first}; give each dataset its own "name"`,
        });
      } else seen.set(name, i);
    });
  })
  // The default dataset is filled in only when neither form is given, so giving both stays detectable.
  .transform((c) => (c.dataset || c.datasets ? c : { ...c, dataset: DEFAULT_DATASET }));

export type RunConfigInput = z.input<typeof runConfigSchema>;
export type RunConfig = z.output<typeof runConfigSchema>;
