/** Paths a run's config points at, read from run.json: the config file and the datasets' roots. */
import { isBuiltinModel } from '../engine/torch/builtin-models';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { COORD_CONVENTIONS, type Box, type CoordConvention } from '../core/types';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { resolveInside } from '../data/loaders/resolve';
import { hrbenchImageRoot } from '../data/loaders/hrbench-root';
import type { RunConfig } from '../run/config-schema';
import { readRunJson } from '../run/run-dir';
import { commonRoot, loadRunDataset, recordsInRun, runDatasetEntries, type RunDatasetEntry } from '../run/run-datasets';

export interface RunFiles {
  /** The config file the run was started from, when it was a file. */
  configFile: string | null;
  /** The folder record image paths are relative to, as the worker uses it (with several datasets, the one holding all their roots), absolute; null for imported dumps. */
  datasetRoot: string | null;
  /** The run's datasets (none for imported dumps); `name` prefixes record ids when there are several. */
  datasets: RunFilesDataset[];
  /** The resolved config as run.json holds it. */
  config: Record<string, unknown>;
  evalSplit: string;
  /** The (first) dataset's path as configured (a folder or a file), absolute; null for imported dumps. */
  datasetPath: string | null;
  datasetFormat: string | null;
  /** How the run's model writes box coordinates, so the panel reads traces as the scorer did. */
  convention: CoordConvention | null;
}

export interface RunFilesDataset extends RunDatasetEntry {
  /** The folder its loader takes image paths from. */
  root: string;
}

/** The dataset fields of a run.json config, keeping only entries with a path (run.json may be older or hand-edited). */
function datasetsOf(config: Record<string, unknown>): Pick<RunConfig, 'dataset' | 'datasets'> {
  const entry = (v: unknown): { path: string; format?: string; name?: string } | null => {
    if (!v || typeof v !== 'object') return null;
    const o = v as Record<string, unknown>;
    if (typeof o.path !== 'string') return null;
    return {
      path: o.path,
      ...(typeof o.format === 'string' ? { format: o.format } : {}),
      ...(typeof o.name === 'string' ? { name: o.name } : {}),
    };
  };
  if (Array.isArray(config.datasets)) return { datasets: config.datasets.map(entry).filter((e) => e !== null) };
  const one = entry(config.dataset);
  return one ? { dataset: one } : { datasets: [] };
}

export function readRunFiles(runDir: string): RunFiles {
  let json: Record<string, unknown> = {};
  try {
    json = readRunJson(runDir) as unknown as Record<string, unknown>;
  } catch {
    // an imported dump without run.json: nothing to point at
  }
  const config = (json.config && typeof json.config === 'object' ? json.config : {}) as Record<string, unknown>;
  const configFile = typeof json.configFile === 'string' ? json.configFile : null;
  const base = configFile ? dirname(configFile) : runDir;
  const datasets = runDatasetEntries(datasetsOf(config), base).map((e) => {
    const tsv = hrbenchTsv(e.path, e.format ?? null);
    return { ...e, root: tsv ? hrbenchRoot(tsv) : /\.(jsonl|json)$/i.test(e.path) ? dirname(e.path) : e.path };
  });
  const first = datasets[0] ?? null;
  const splits = config.splits as { eval?: unknown } | undefined;
  return {
    configFile,
    datasetRoot: datasets.length > 0 ? commonRoot(datasets.map((d) => d.root)) : null,
    datasets,
    config,
    evalSplit: typeof splits?.eval === 'string' ? splits.eval : 'val',
    datasetPath: first?.path ?? null,
    datasetFormat: first?.format ?? null,
    convention: typeof config.model === 'string' ? modelConvention(config.model, base) : null,
  };
}

/**
 * A record's image path (relative to the run's image root) as a file inside one of the run's
 * dataset roots; throws saying why when it leaves them.
 */
export function datasetImagePath(files: Pick<RunFiles, 'datasetRoot' | 'datasets'>, rel: string): string {
  if (files.datasetRoot === null) throw new Error(`${rel}: the run has no dataset folder`);
  const full = resolveInside(files.datasetRoot, rel);
  for (const d of files.datasets) {
    const inner = relative(d.root, full);
    // Each dataset's own root bounds its images, so a common root of several exposes nothing between them.
    if (inner !== '..' && !inner.startsWith(`..${sep}`) && !isAbsolute(inner)) return resolveInside(d.root, inner);
  }
  throw new Error(`path "${rel}" is inside none of the run's dataset folders`);
}

export interface RunEvidence {
  /** Ground-truth boxes (and their labels) by record id as the run names it. */
  byId: Map<string, { evidence: Box[]; evidenceLabels?: string[] }>;
  /** One line per dataset that could not be read. */
  errors: string[];
}

/** Ground-truth boxes of every record of every dataset of the run (rollouts do not carry them). */
export async function loadRunEvidence(files: Pick<RunFiles, 'datasetRoot' | 'datasets'>): Promise<RunEvidence> {
  const byId: RunEvidence['byId'] = new Map();
  const errors: string[] = [];
  const root = files.datasetRoot;
  if (root === null) return { byId, errors };
  const loaded = await Promise.all(
    files.datasets.map(async (d) => {
      try {
        return recordsInRun(d, root, await loadRunDataset(d));
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
        return [];
      }
    }),
  );
  for (const r of loaded.flat())
    byId.set(r.id, { evidence: r.evidence, ...(r.evidenceLabels ? { evidenceLabels: r.evidenceLabels } : {}) });
  return { byId, errors };
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
  if (isBuiltinModel(model)) return 'qwen2-1000';
  const dir = isAbsolute(model) ? model : resolve(base, model);
  const declared = readJson(join(dir, 'ivgr.json'))?.coordConvention;
  if (typeof declared === 'string' && (COORD_CONVENTIONS as readonly string[]).includes(declared)) return declared as CoordConvention;
  const type = readJson(join(dir, 'config.json'))?.model_type;
  return typeof type === 'string' ? (BY_MODEL_TYPE[type] ?? null) : null;
}
