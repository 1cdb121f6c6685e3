/**
 * A perception pretraining run: draws the curriculum's scenes into the run folder, then runs
 * the Python trainer (python/ivgr_engine/pretrain.py) on them in the foreground. Ctrl-C
 * reaches the trainer, which stops at the next step with a checkpoint; the same function
 * resumes the run from its newest checkpoint.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import type { MetricsRecord, RunStatus } from '../core/types';
import { corpusLines } from '../data';
import { generateItem, SYNTHETIC_FAMILIES, type SplitName } from '../data/synthetic/generate';
import { ensurePerceptionPool } from '../data/synthetic/perception-pool';
import { perceptionCorpus, TEXT_ONLY_TASKS } from '../data/synthetic/perception';
import { DEFAULT_SIZING } from '../data/synthetic/scene';
import { COLOUR_NAMES, OBJECT_SHAPES, WORDS } from '../data/synthetic/vocabulary';
import { enginePackageDir, pythonPath } from '../engine/torch/python-env';
import type { PretrainConfig } from '../run/pretrain-config';
import { readAll } from '../run/jsonl-reader';
import { modelCard } from '../run/model-card';
import { readRunJson, updateRunJson } from '../run/run-dir';
import { instructionOf, promptCorpus, SYSTEM_PROMPT } from './prompts';

/** Exit code of the trainer when it stopped on a signal with a checkpoint. */
const PAUSED_EXIT = 3;

/** Seeds of the held-out pools differ from the training pools' by this, so no scene is shared. */
const HELD_OUT_SEED = 0x5eed;

/**
 * Text the tokenizer is trained on: the prompts, every perception question and answer, and
 * benchmark questions with their reference traces at several canvas sizes, so a model
 * pretrained once tokenises any synthetic benchmark the demo or a user draws.
 */
export function pretrainCorpus(config: PretrainConfig): string[] {
  const lines = [...promptCorpus(), ...perceptionCorpus(config.convention)];
  for (const size of [224, 448, 1024, 2048]) {
    for (let i = 0; i < 200; i++) {
      const split: SplitName = 'train';
      const { record } = generateItem(config.seed + size, split, i, {
        size,
        convention: config.convention,
        families: SYNTHETIC_FAMILIES,
        sizing: DEFAULT_SIZING,
        freeFormRatio: 0.25,
        distractors: { min: 2, max: 4 },
        optionAnswer: 'letter',
      });
      lines.push(...corpusLines([record]));
    }
  }
  return lines;
}

/** Writes pretrain.json and corpus.txt and draws every stage's training and held-out pool. */
export async function preparePretrainRun(runDir: string, config: PretrainConfig, log: (line: string) => void): Promise<void> {
  const recipeDir = dirname(readRunJson(runDir).configFile ?? join(runDir, 'pretrain.json'));
  const resolved = {
    ...config,
    system: config.system === 'worker' ? SYSTEM_PROMPT : '',
    ...(config.init ? { init: resolve(recipeDir, config.init) } : {}),
    // Trace questions are asked as the training runs ask them: their system prompt and each stream's instruction.
    traceSystem: SYSTEM_PROMPT,
    instructions: { textual: instructionOf('textual'), grounded: instructionOf('grounded') },
    // The aids' class numbering and which tasks have no image, so the trainer holds no copy of them.
    vocabulary: { colours: COLOUR_NAMES, shapes: OBJECT_SHAPES, words: WORDS },
    textOnlyTasks: TEXT_ONLY_TASKS,
  };
  if (resolved.init && !existsSync(join(resolved.init, 'config.json'))) {
    throw new Error(`init: ${resolved.init} is not a model folder (no config.json); pretrain it first`);
  }
  writeFileSync(join(runDir, 'pretrain.json'), JSON.stringify(resolved, null, 2) + '\n');
  if (!existsSync(join(runDir, 'corpus.txt'))) writeFileSync(join(runDir, 'corpus.txt'), pretrainCorpus(config).join('\n') + '\n');
  const data = join(runDir, 'data');
  for (const stage of config.stages) {
    for (const [name, count, seed] of [
      [stage.name, stage.pool, config.seed],
      [`${stage.name}-val`, config.heldOut, config.seed + HELD_OUT_SEED],
    ] as const) {
      let last = 0;
      const drew = await ensurePerceptionPool(
        data,
        { name, count, seed, spec: stage.scene, convention: config.convention },
        (done, total) => {
          if (done === total || done - last >= 500) {
            last = done;
            log(`scenes ${name}: ${done}/${total}`);
          }
        },
      );
      if (!drew) log(`scenes ${name}: ${count} already drawn`);
    }
  }
}

export interface PretrainOptions {
  python?: string;
  /** CPU threads of the trainer (default 1, so a long run leaves the machine usable). */
  threads?: number;
  log: (line: string) => void;
}

/** Runs (or resumes) the trainer and records the outcome in run.json. */
export async function runPretrain(runDir: string, config: PretrainConfig, opts: PretrainOptions): Promise<RunStatus> {
  updateRunJson(runDir, { status: 'running', pid: process.pid });
  let status: RunStatus = 'crashed';
  try {
    await preparePretrainRun(runDir, config, opts.log);
    const code = await runTrainer(runDir, opts);
    status = code === 0 ? 'finished' : code === PAUSED_EXIT ? 'paused' : 'crashed';
    if (status === 'finished') await writeModelCard(runDir, config, opts.threads ?? 1);
    updateRunJson(runDir, {
      status,
      pid: null,
      step: lastStep(runDir),
      ...(status === 'crashed' ? { message: `the pretraining process exited with code ${code}; see the output above` } : {}),
    });
  } catch (err) {
    updateRunJson(runDir, { status: 'crashed', pid: null, message: (err as Error).message });
    throw err;
  }
  return status;
}

function lastStep(runDir: string): number {
  const file = join(runDir, 'events', 'metrics.jsonl');
  if (!existsSync(file)) return 0;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return (JSON.parse(lines[i] as string) as { step: number }).step;
    } catch {
      // a line cut short by a kill: look at the one before
    }
  }
  return 0;
}

function runTrainer(runDir: string, opts: PretrainOptions): Promise<number> {
  const pkg = enginePackageDir();
  const inherited = process.env.PYTHONPATH;
  const python = opts.python ?? pythonPath();
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(python, ['-m', 'ivgr_engine.pretrain', '--run', runDir, '--threads', String(opts.threads ?? 1)], {
      env: { ...process.env, PYTHONPATH: inherited ? `${pkg}${delimiter}${inherited}` : pkg },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // Ctrl-C reaches the trainer through the terminal's process group; it saves and exits, and so do we.
    const forward = (signal: NodeJS.Signals) => () => {
      child.kill(signal);
    };
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
    child.on('error', (err) => {
      done();
      rejectRun(new Error(`cannot run ${python}: ${err.message}; run 'node scripts/setup-python.mjs' or set IVGR_PYTHON`));
    });
    child.on('exit', (code, signal) => {
      done();
      resolveRun(code ?? (signal ? 1 : 0));
    });
  });
}

/** <run>/model/README.md: the model card (see src/run/model-card.ts). */
export async function writeModelCard(runDir: string, config: PretrainConfig, threads: number): Promise<void> {
  const model = join(runDir, 'model');
  const weights = join(model, 'model.safetensors');
  const run = readRunJson(runDir);
  const info = JSON.parse(readFileSync(join(model, 'ivgr.json'), 'utf8')) as { parameters?: number; imageSize?: number };
  // A run from `init` keeps that model's size and base, whatever its own `model:` defaults say.
  const hf = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { rope_theta?: number; text_config?: { rope_theta?: number } };
  const metrics = (await readAll<MetricsRecord>(join(runDir, 'events', 'metrics.jsonl'))).records;
  const recipePath = run.configFile ? relative(process.cwd(), run.configFile) || run.configFile : 'pretrain.json';
  const card = modelCard({
    name: config.name,
    recipeText: run.configFile && existsSync(run.configFile) ? readFileSync(run.configFile, 'utf8') : JSON.stringify(config, null, 2),
    recipePath,
    parameters: info.parameters ?? 0,
    imageSize: info.imageSize ?? config.model.imageSize,
    convention: config.convention,
    ropeTheta: hf.rope_theta ?? hf.text_config?.rope_theta ?? config.model.ropeTheta,
    sha256: createHash('sha256').update(readFileSync(weights)).digest('hex'),
    bytes: statSync(weights).size,
    metrics,
    machine: `${cpus().length} CPU cores (${threads} trainer thread${threads === 1 ? '' : 's'})`,
    ...(config.init ? { init: config.init } : {}),
    tasks: [...new Set(config.stages.flatMap((s) => s.scene.tasks))],
  });
  writeFileSync(join(model, 'README.md'), card);
}
