/**
 * What a run needs before its first step: the dataset (generated first when the
 * config asks for a synthetic one), the model folder (the built-in tiny model is
 * built from the dataset's corpus), and a way to start the engine with it loaded.
 */
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { DatasetRecord } from '../core/types';
import type { Engine, ModelInfo } from '../engine/engine';
import { corpusLines, DATASET_FORMATS, ensureSyntheticDataset, loadDataset, type DatasetFormat } from '../data';
import { createTorchEngine, ensureTinyModel } from '../engine/torch';
import type { RunConfig } from '../run/config-schema';
import type { RunJson } from '../run/run-dir';
import { promptCorpus } from './prompts';

export interface RunData {
  config: RunConfig;
  /** Resolved dataset path. */
  path: string;
  /** Root that record image paths are relative to. */
  root: string;
  train: DatasetRecord[];
  /** Records of another split, loaded on first use. */
  split(name: string): Promise<DatasetRecord[]>;
}

/** The coordinate convention of the built-in tiny model's traces. */
export const TINY_CONVENTION = 'qwen2-1000' as const;

export function datasetPathOf(run: Pick<RunJson, 'configFile'>, config: RunConfig): string {
  const p = config.dataset.path;
  if (isAbsolute(p)) return p;
  return run.configFile ? resolve(dirname(run.configFile), p) : resolve(p);
}

export async function openRunData(run: Pick<RunJson, 'configFile'>, config: RunConfig, log: (text: string) => void): Promise<RunData> {
  const path = datasetPathOf(run, config);
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
    });
    log(`synthetic dataset at ${path}: ${r.rendered} images drawn, ${r.cached} reused`);
  }
  const format = config.dataset.format;
  if (format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(format)) {
    throw new Error(`config dataset.format: '${format}' is not a dataset format (expected one of ${DATASET_FORMATS.join(', ')})`);
  }
  const cache = new Map<string, { records: DatasetRecord[]; root: string }>();
  const load = async (split: string) => {
    let hit = cache.get(split);
    if (!hit) {
      const r = await loadDataset(path, { ...(format ? { format: format as DatasetFormat } : {}), split });
      for (const s of r.skipped.slice(0, 3)) log(`dataset: skipped ${typeof s === 'string' ? s : JSON.stringify(s)}`);
      hit = { records: r.records, root: r.root };
      cache.set(split, hit);
    }
    return hit;
  };
  const train = await load(config.splits.train);
  log(`dataset ${path}: ${train.records.length} training questions (split '${config.splits.train}')`);
  return { config, path, root: train.root, train: train.records, split: async (name) => (await load(name)).records };
}

/** The model folder to load: the config's, or the tiny model built (once) from the training corpus. */
export async function modelPathOf(config: RunConfig, data: RunData, python: string | undefined, log: EngineEnv['log']): Promise<string> {
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
