/**
 * Writes a synthetic dataset folder: manifest.json, <split>.jsonl and
 * images/<split>/<id>.png. Images are reused when the manifest says they were
 * drawn by the same generator version from the same seed, size and settings.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoordConvention, QuestionFamily } from '../../core/types';
import { hashString } from './prng';
import {
  DEFAULT_GENERATE_OPTIONS,
  GENERATOR_VERSION,
  SPLITS,
  SYNTHETIC_FAMILIES,
  generateItem,
  type DistractorRange,
  type GenerateOptions,
  type OptionAnswer,
  type SplitName,
  type SyntheticFamily,
} from './generate';
import { DEFAULT_SIZING } from './scene';
import { detectTextMode, renderScene } from './render';
import type { TextMode } from './svg';

export interface SynthOptions {
  seed: number;
  counts: { train: number; val: number; test: number };
  /** Long side of every canvas in pixels (default benchmark: 2048; demo: 448–640). */
  size: number;
  convention: CoordConvention;
  families?: QuestionFamily[];
  /** Target size as a fraction of sqrt(width * height) (default 0.04; never under 16 px, so visible at 448 px). */
  targetScale?: number;
  /** Share of free-form questions (default 0.25). */
  freeFormRatio?: number;
  /** Distractor objects per scene (default 2–4). */
  distractors?: DistractorRange;
  /** How the reference traces answer multiple choice: by letter (default) or by the option's text. */
  optionAnswer?: OptionAnswer;
}

export const MANIFEST_FORMAT = 'ivgr-synthetic';
export const MAX_SIZE = 4096;

export interface SyntheticManifest {
  format: typeof MANIFEST_FORMAT;
  generatorVersion: number;
  seed: number;
  /** The words seeding each split's record generators: [seed, split hash]; record i adds i. */
  splitSeeds: Record<SplitName, [number, number]>;
  size: number;
  targetScale: number;
  minTargetPx: number;
  freeFormRatio: number;
  /** Absent in manifests written before the option existed: those used the default. */
  distractors?: DistractorRange;
  /** Absent in manifests written before the option existed: those answered by letter. */
  optionAnswer?: OptionAnswer;
  families: SyntheticFamily[];
  counts: Record<SplitName, number>;
  /** Coordinate convention of the boxes in the grounded reference traces. */
  convention: CoordConvention;
  textRendering: TextMode;
}

function checkOptions(opts: SynthOptions): void {
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff)
    throw new RangeError(`seed must be an integer 0..4294967295, got ${opts.seed}`);
  if (!Number.isInteger(opts.size) || opts.size < 64 || opts.size > MAX_SIZE)
    throw new RangeError(`size must be an integer 64..${MAX_SIZE} px, got ${opts.size}`);
  for (const split of SPLITS) {
    const c = opts.counts[split];
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`count of split "${split}" must be a non-negative integer, got ${c}`);
  }
  for (const f of opts.families ?? []) {
    if (!(SYNTHETIC_FAMILIES as readonly string[]).includes(f))
      throw new RangeError(`unknown question family "${f}"; expected one of ${SYNTHETIC_FAMILIES.join(', ')}`);
  }
  if (opts.targetScale !== undefined && !(opts.targetScale > 0 && opts.targetScale <= 0.2))
    throw new RangeError(`targetScale must be in (0, 0.2], got ${opts.targetScale}`);
  const d = opts.distractors;
  if (d && !(Number.isInteger(d.min) && Number.isInteger(d.max) && d.min >= 0 && d.max >= d.min && d.max <= 12)) {
    throw new RangeError(`distractors must be integers with 0 <= min <= max <= 12, got ${JSON.stringify(d)}`);
  }
}

export function generateOptionsOf(opts: SynthOptions): GenerateOptions {
  return {
    size: opts.size,
    convention: opts.convention,
    families: opts.families && opts.families.length > 0 ? (opts.families as SyntheticFamily[]) : SYNTHETIC_FAMILIES,
    sizing: { ...DEFAULT_SIZING, targetScale: opts.targetScale ?? DEFAULT_SIZING.targetScale },
    freeFormRatio: opts.freeFormRatio ?? DEFAULT_GENERATE_OPTIONS.freeFormRatio,
    distractors: opts.distractors ?? DEFAULT_GENERATE_OPTIONS.distractors,
    optionAnswer: opts.optionAnswer ?? DEFAULT_GENERATE_OPTIONS.optionAnswer,
  };
}

function manifestOf(opts: SynthOptions, gen: GenerateOptions, textRendering: TextMode): SyntheticManifest {
  return {
    format: MANIFEST_FORMAT,
    generatorVersion: GENERATOR_VERSION,
    seed: opts.seed,
    splitSeeds: { train: [opts.seed, hashString('train')], val: [opts.seed, hashString('val')], test: [opts.seed, hashString('test')] },
    size: opts.size,
    targetScale: gen.sizing.targetScale,
    minTargetPx: gen.sizing.minTargetPx,
    freeFormRatio: gen.freeFormRatio,
    distractors: { ...gen.distractors },
    optionAnswer: gen.optionAnswer,
    families: [...gen.families],
    counts: { ...opts.counts },
    convention: opts.convention,
    textRendering,
  };
}

/** Everything an image depends on; counts and the trace convention do not change pixels. */
function imageKey(m: SyntheticManifest): string {
  const d = m.distractors ?? DEFAULT_GENERATE_OPTIONS.distractors;
  return JSON.stringify([
    m.generatorVersion,
    m.seed,
    m.size,
    m.targetScale,
    m.minTargetPx,
    m.freeFormRatio,
    m.families,
    m.textRendering,
    d.min,
    d.max,
  ]);
}

export async function readManifest(dir: string): Promise<SyntheticManifest | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Partial<SyntheticManifest>;
    return m.format === MANIFEST_FORMAT ? (m as SyntheticManifest) : null;
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}

/** Writes to a temporary name first so a crash never leaves a half-written file under the real name. */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Creates or updates the synthetic dataset in `dir`. Images already drawn with
 * the same generator version, seed, size and settings are kept; everything
 * else is rendered. The JSONL index and manifest are always rewritten.
 */
export async function ensureSyntheticDataset(
  dir: string,
  opts: SynthOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<{ dir: string; rendered: number; cached: number }> {
  checkOptions(opts);
  const gen = generateOptionsOf(opts);
  const manifest = manifestOf(opts, gen, await detectTextMode());
  const previous = await readManifest(dir);
  const reuse = previous !== null && imageKey(previous) === imageKey(manifest);
  await mkdir(dir, { recursive: true });
  if (previous && !reuse) {
    // Invalidate first: a crash while re-rendering must not leave old manifest + new images.
    await rm(join(dir, 'manifest.json'), { force: true });
    for (const split of SPLITS) await rm(join(dir, 'images', split), { recursive: true, force: true });
  }
  const total = SPLITS.reduce((s, split) => s + opts.counts[split], 0);
  let done = 0;
  let rendered = 0;
  let cached = 0;
  for (const split of SPLITS) {
    const lines: string[] = [];
    await mkdir(join(dir, 'images', split), { recursive: true });
    for (let i = 0; i < opts.counts[split]; i++) {
      const { record, scene } = generateItem(opts.seed, split, i, gen);
      const imagePath = join(dir, record.image);
      if (reuse && (await exists(imagePath))) {
        cached++;
      } else {
        await writeAtomic(imagePath, await renderScene(scene, manifest.textRendering));
        rendered++;
      }
      lines.push(JSON.stringify(record));
      onProgress?.(++done, total);
    }
    await writeAtomic(join(dir, `${split}.jsonl`), lines.length ? lines.join('\n') + '\n' : '');
  }
  await writeAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { dir, rendered, cached };
}
