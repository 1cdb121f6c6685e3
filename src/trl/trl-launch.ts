/**
 * A TRL run's launch folder `<run>/trl/`: the dataset rows, the accelerate config and
 * launch.json (model folder, convention, batch shape, scorer command) that `python -m ivgr_trl`
 * reads, and the `accelerate launch` command line that starts it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';
import type { CoordConvention } from '../core/types';
import type { RunConfig } from '../run/config-schema';
import { enginePackageDir, projectRoot } from '../engine/torch/python-env';
import { modelPathOf, TINY_CONVENTION, type RunData } from '../worker/run-inputs';
import { accelerateConfig } from './accelerate-config';
import { trlPlan, type TrlPlan } from './trl-plan';
import { trlRows } from './trl-rows';

export interface TrlLaunchFiles {
  dir: string;
  rows: string;
  accelerate: string;
  launch: string;
}

export interface LaunchJson {
  v: 1;
  model: string;
  /** The coordinate convention of the model's traces; absent: the Python side reads it from the model folder. */
  convention?: CoordConvention;
  streams: TrlPlan['streams'];
  groupSize: number;
  temperature: number;
  perDeviceBatch: number;
  rows: string;
  /** Image paths of the rollout records are relative to this folder, as in runs of the ivgr trainer. */
  imageRoot: string;
  /** The command that starts `ivgr score --jsonl`. */
  scorer: string[];
}

export function trlFiles(dir: string): TrlLaunchFiles {
  return { dir, rows: join(dir, 'train.jsonl'), accelerate: join(dir, 'accelerate.yaml'), launch: join(dir, 'launch.json') };
}

/** `node <cli> score --jsonl`: $IVGR_CLI names the built CLI when it is not this project's dist/cli.js. */
export function scorerCommand(): string[] {
  return [process.execPath, process.env.IVGR_CLI ?? join(projectRoot(), 'dist', 'cli.js'), 'score', '--jsonl'];
}

/** Writes the launch folder for `config` into `dir`; returns its files. */
export async function writeTrlLaunch(
  dir: string,
  config: RunConfig,
  data: RunData,
  opts: { python?: string; log: (text: string) => void },
): Promise<TrlLaunchFiles> {
  const plan = trlPlan(config);
  const files = trlFiles(dir);
  mkdirSync(dir, { recursive: true });
  const model = config.initFrom ?? (await modelPathOf(config, data, opts.python, (_level, text) => opts.log(text)));
  const rows = trlRows(data.train, data.root, plan.streams, config.batchOrder === 'answer-balanced');
  if (rows.length === 0) throw new Error(`no training questions in split '${config.splits.train}'`);
  writeFileSync(files.rows, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(files.accelerate, accelerateConfig(plan.trl, { device: config.device, dtype: config.dtype }));
  const launch: LaunchJson = {
    v: 1,
    model,
    ...(config.model === 'builtin:tiny' ? { convention: TINY_CONVENTION } : {}),
    streams: plan.streams,
    groupSize: plan.groupSize,
    temperature: plan.temperature,
    perDeviceBatch: plan.perDeviceBatch,
    rows: files.rows,
    imageRoot: data.root,
    scorer: scorerCommand(),
  };
  writeFileSync(files.launch, JSON.stringify(launch, null, 2) + '\n');
  opts.log(
    `TRL launch folder ${dir}: ${rows.length} prompts (${plan.streams.join(' + ')}), ${plan.perDeviceBatch} completions per process per step`,
  );
  return files;
}

/** `python -m accelerate.commands.launch --config_file … -m ivgr_trl --run-dir …` and its environment. */
export function accelerateCommand(
  python: string,
  runDir: string,
  files: TrlLaunchFiles,
  config: RunConfig,
  extra: string[],
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const pkg = enginePackageDir();
  const inherited = process.env.PYTHONPATH;
  // accelerate gives a CPU process one thread per physical core it counts; share the logical ones as torch would.
  const processes = config.trl?.processes ?? 1;
  const threads =
    config.device === 'cpu' ? ['--num_cpu_threads_per_process', String(Math.max(1, Math.floor(availableParallelism() / processes)))] : [];
  return {
    command: python,
    args: [
      '-m',
      'accelerate.commands.launch',
      '--config_file',
      files.accelerate,
      ...threads,
      '-m',
      'ivgr_trl',
      '--run-dir',
      runDir,
      ...extra,
    ],
    env: { ...process.env, PYTHONPATH: inherited ? `${pkg}${delimiter}${inherited}` : pkg, TOKENIZERS_PARALLELISM: 'false' },
  };
}
