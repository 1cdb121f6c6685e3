/** Paths a run's config points at, read from run.json: the config file and the dataset root. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface RunFiles {
  /** The config file the run was started from, when it was a file. */
  configFile: string | null;
  /** The dataset folder (or the folder of a dataset file), absolute; null for imported dumps. */
  datasetRoot: string | null;
  /** The resolved config as run.json holds it. */
  config: Record<string, unknown>;
  evalSplit: string;
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
  const dataset = config.dataset as { path?: unknown } | undefined;
  let datasetRoot: string | null = null;
  if (typeof dataset?.path === 'string') {
    const base = configFile ? dirname(configFile) : runDir;
    datasetRoot = isAbsolute(dataset.path) ? dataset.path : resolve(base, dataset.path);
    if (/\.(jsonl|tsv|json)$/i.test(datasetRoot)) datasetRoot = dirname(datasetRoot);
  }
  const splits = config.splits as { eval?: unknown } | undefined;
  return { configFile, datasetRoot, config, evalSplit: typeof splits?.eval === 'string' ? splits.eval : 'val' };
}
