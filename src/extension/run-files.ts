/** Paths a run's config points at, read from run.json: the config file and the dataset root. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { CoordConvention } from '../core/types';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { hrbenchImageRoot } from '../data/loaders/hrbench-root';

export interface RunFiles {
  /** The config file the run was started from, when it was a file. */
  configFile: string | null;
  /** The folder record image paths are relative to, as the loader uses it, absolute; null for imported dumps. */
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
  const datasetFormat = typeof dataset?.format === 'string' ? dataset.format : null;
  let datasetRoot: string | null = null;
  let datasetPath: string | null = null;
  if (typeof dataset?.path === 'string') {
    datasetPath = isAbsolute(dataset.path) ? dataset.path : resolve(base, dataset.path);
    const tsv = hrbenchTsv(datasetPath, datasetFormat);
    datasetRoot = tsv ? hrbenchRoot(tsv) : /\.(jsonl|json)$/i.test(datasetPath) ? dirname(datasetPath) : datasetPath;
  }
  const splits = config.splits as { eval?: unknown } | undefined;
  return {
    configFile,
    datasetRoot,
    config,
    evalSplit: typeof splits?.eval === 'string' ? splits.eval : 'val',
    datasetPath,
    datasetFormat,
    convention: typeof config.model === 'string' ? modelConvention(config.model, base) : null,
  };
}

/** The HR-Bench TSV a dataset path loads, by the loader's rules: a .tsv file, or a folder's only .tsv when it is no synthetic dataset. */
function hrbenchTsv(path: string, format: string | null): string | null {
  if (/\.tsv$/i.test(path)) return path;
  if ((format !== null && format !== 'hrbench') || (format === null && existsSync(join(path, 'manifest.json')))) return null;
  try {
    if (!statSync(path).isDirectory()) return null;
    const tsvs = readdirSync(path).filter((f) => f.endsWith('.tsv'));
    return tsvs.length === 1 ? join(path, tsvs[0] as string) : null;
  } catch {
    return null;
  }
}

/** Where the loader decoded the TSV's images; its folder when the TSV is gone and nothing can be decoded anyway. */
function hrbenchRoot(tsv: string): string {
  try {
    return hrbenchImageRoot(tsv).root;
  } catch {
    return dirname(tsv);
  }
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
