/**
 * What a run needs before its first step: the dataset or datasets (the synthetic
 * one generated first when the config asks for it; several are mixed, their ids
 * prefixed by name and image paths taken from a common root), the model folder
 * (the built-in tiny model is built from the training corpus), and a way to
 * start the engine with it loaded; and the check that the paths it names exist, made before a
 * run folder is created so a bad path leaves no empty run behind.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { DatasetRecord } from '../core/types';
import type { Engine, ModelInfo } from '../engine/engine';
import { corpusLines, ensureSyntheticDataset, type LoadedDataset } from '../data';
import { createTorchEngine, ensureTinyModel } from '../engine/torch';
import { isBuiltinModel, shippedModelDir } from '../engine/torch/builtin-models';
import type { RunConfig } from '../run/config-schema';
import { commonRoot, loadRunDataset, recordsInRun, runDatasetEntries } from '../run/run-datasets';
import type { RunJson } from '../run/run-dir';
import { promptCorpus } from './prompts';

export interface RunData {
  config: RunConfig;
  /** Resolved path of the (first) dataset. */
  path: string;
  /** Root that record image paths are relative to (with several datasets, the folder that holds all their roots). */
  root: string;
  /** The run's datasets: name (null for the single `dataset` form) and resolved path. */
  datasets: Array<{ name: string | null; path: string }>;
  train: DatasetRecord[];
  /** Records of a split, loaded on first use: of every dataset, or of the one named. */
  split(name: string, dataset?: string): Promise<DatasetRecord[]>;
}

/** The coordinate convention of the built-in tiny model's traces. */
export const TINY_CONVENTION = 'qwen2-1000' as const;

export async function openRunData(run: Pick<RunJson, 'configFile'>, config: RunConfig, log: (text: string) => void): Promise<RunData> {
  const entries = runDatasetEntries(config, run.configFile ? dirname(run.configFile) : process.cwd());
  const path = entries[0]!.path;
  if (config.synthetic) {
    const s = config.synthetic;
    const r = await ensureSyntheticDataset(path, {
      seed: s.seed,
      counts: s.counts,
      size: s.size,
      convention: TINY_CONVENTION,
      ...(s.families ? { families: s.families } : {}),
      ...(s.targetScale !== undefined ? { targetScale: s.targetScale } : {}),
      ...(s.freeFormRatio !== undefined ? { freeFormRatio: s.freeFormRatio } : {}),
      ...(s.distractors ? { distractors: s.distractors } : {}),
      ...(s.optionAnswer ? { optionAnswer: s.optionAnswer } : {}),
    });
    log(`synthetic dataset at ${path}: ${r.rendered} images drawn, ${r.cached} reused`);
  }
  const cache = new Map<string, LoadedDataset>();
  const load = async (i: number, split: string) => {
    const e = entries[i]!;
    let hit = cache.get(`${i}\u0000${split}`);
    if (!hit) {
      hit = await loadRunDataset(e, split);
      for (const s of hit.skipped.slice(0, 3))
        log(`dataset${e.name ? ` ${e.name}` : ''}: skipped ${typeof s === 'string' ? s : JSON.stringify(s)}`);
      cache.set(`${i}\u0000${split}`, hit);
    }
    return hit;
  };
  const train = await Promise.all(entries.map((_, i) => load(i, config.splits.train)));
  const root = commonRoot(train.map((t) => t.root));
  const trainRecords = train.flatMap((t, i) => recordsInRun(entries[i]!, root, t));
  entries.forEach((e, i) =>
    log(`dataset ${e.name ? `${e.name} ` : ''}${e.path}: ${train[i]!.records.length} training questions (split '${config.splits.train}')`),
  );
  const split = async (name: string, dataset?: string): Promise<DatasetRecord[]> => {
    const which = dataset === undefined ? entries.map((_, i) => i) : [entries.findIndex((e) => e.name === dataset)];
    if (which[0] === -1)
      throw new Error(`no dataset named '${dataset}' in this run (its datasets: ${entries.map((e) => e.name ?? '(unnamed)').join(', ')})`);
    const parts = await Promise.all(which.map(async (i) => recordsInRun(entries[i]!, root, await load(i, name))));
    return parts.flat();
  };
  return { config, path, root, datasets: entries.map((e) => ({ name: e.name, path: e.path })), train: trainRecords, split };
}

/** The model folder to load: the config's, or the tiny model built (once) from the training corpus. */
export async function modelPathOf(config: RunConfig, data: RunData, python: string | undefined, log: EngineEnv['log']): Promise<string> {
  const shipped = shippedModelDir(config.model);
  if (shipped) return shipped;
  if (config.model !== 'builtin:tiny') return config.model;
  const lines = [...corpusLines(data.train), ...promptCorpus()];
  const digest = createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 12);
  const dir = join(dirname(data.path), 'models', `tiny-${digest}`);
  await ensureTinyModel(dir, lines, python, { log: (line) => log('info', line) });
  return dir;
}

export interface EngineEnv {
  python?: string;
  log: (level: 'info' | 'warn' | 'error', text: string) => void;
}

/** Returns a function that starts a fresh engine process with the run's model loaded. */
export function engineStarter(config: RunConfig, data: RunData, env: EngineEnv): () => Promise<{ engine: Engine; info: ModelInfo }> {
  let model: string | null = null;
  return async () => {
    model ??= await modelPathOf(config, data, env.python, env.log);
    const engine = createTorchEngine({ ...(env.python ? { python: env.python } : {}), log: (line) => env.log('info', line) });
    const info = await engine.load({
      model,
      dtype: config.dtype,
      device: config.device,
      reference: config.klBeta > 0,
      learningRate: config.learningRate,
      seed: config.seed,
    });
    return { engine, info };
  };
}

/** One line per missing input; `configDir` is where the config's relative dataset paths start. */
export function missingRunInputs(config: RunConfig, configDir: string): string[] {
  const missing: string[] = [];
  if (!config.synthetic) {
    for (const e of runDatasetEntries(config, configDir)) if (!existsSync(e.path)) missing.push(`dataset not found: ${e.path}`);
  }
  // Only what is plainly a path (a hub-style "org/name" may mean something to another trainer); the
  // engine resolves a relative model folder from the worker's working directory, as here.
  const path = isAbsolute(config.model) || /^\.\.?[\\/]/.test(config.model);
  if (path && !isBuiltinModel(config.model) && !existsSync(resolve(config.model))) missing.push(`model folder not found: ${config.model}`);
  return missing;
}
