/** Paths a run's config points at, read from run.json: the config file and the dataset root. */
import { readFileSync } from 'node:fs';
import type { CoordConvention } from '../core/types';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface RunFiles {
  /** The config file the run was started from, when it was a file. */
  configFile: string | null;
  /** The dataset folder (or the folder of a dataset file), absolute; null for imported dumps. */
  datasetRoot: string | null;
  /** The resolved config as run.json holds it. */
  config: Record<string, unknown>;
  evalSplit: string;
  /** The dataset path as configured (a folder or a file), absolute; null for imported dumps. */
  datasetPath: string | null;
  datasetFormat: string | null;
  /** How the run's model writes box coordinates, so the panel reads traces as the scorer did. */
  convention: CoordConvention | null;
}

export function readRunFiles(runDir: string): RunFiles {
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // an imported dump without run.json: nothing to point at
  }
  const config = (json.config && typeof json.config === 'object' ? json.config : {}) as Record<string, unknown>;
  const configFile = typeof json.configFile === 'string' ? json.configFile : null;
  const dataset = config.dataset as { path?: unknown; format?: unknown } | undefined;
  const base = configFile ? dirname(configFile) : runDir;
  let datasetRoot: string | null = null;
  let datasetPath: string | null = null;
  if (typeof dataset?.path === 'string') {
    datasetPath = isAbsolute(dataset.path) ? dataset.path : resolve(base, dataset.path);
    datasetRoot = /\.(jsonl|tsv|json)$/i.test(datasetPath) ? dirname(datasetPath) : datasetPath;
  }
  const splits = config.splits as { eval?: unknown } | undefined;
  return {
    configFile,
    datasetRoot,
    config,
    evalSplit: typeof splits?.eval === 'string' ? splits.eval : 'val',
    datasetPath,
    datasetFormat: typeof dataset?.format === 'string' ? dataset.format : null,
    convention: typeof config.model === 'string' ? modelConvention(config.model, base) : null,
  };
}

const CONVENTIONS: readonly CoordConvention[] = ['qwen25-abs', 'qwen2-1000', 'relative', 'pixels'];
/** The engine's rule (python/ivgr_engine/model.py): ivgr.json first, else by model type. */
const BY_MODEL_TYPE: Record<string, CoordConvention> = { qwen2_5_vl: 'qwen25-abs', qwen2_vl: 'qwen2-1000', qwen3_vl: 'qwen2-1000' };

function readJson(file: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function modelConvention(model: string, base: string): CoordConvention | null {
  if (model === 'builtin:tiny') return 'qwen2-1000';
  const dir = isAbsolute(model) ? model : resolve(base, model);
  const declared = readJson(join(dir, 'ivgr.json'))?.coordConvention;
  if (typeof declared === 'string' && (CONVENTIONS as readonly string[]).includes(declared)) return declared as CoordConvention;
  const type = readJson(join(dir, 'config.json'))?.model_type;
  return typeof type === 'string' ? (BY_MODEL_TYPE[type] ?? null) : null;
}
