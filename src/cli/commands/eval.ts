/** `ivgr eval <run|checkpoint>`: evaluates checkpoints in the textual, grounded and tool modes. */
import { basename, dirname, resolve } from 'node:path';
import { existsSync, realpathSync } from 'node:fs';
import { commandArgs, printedHelp } from '../args';
import { CliError, type Command } from '../cli-error';
import type { EvalMode } from '../../core/types';
import { readRunJson } from '../../run/run-dir';
import { latestCheckpoint, readWorkerState, WORKER_STATE_FILE } from '../../run/checkpoints';
import { EventSink } from '../../worker/event-sink';
import { EVAL_MODES } from '../../worker/evaluate';
import { evaluateCheckpoints, formatEvalTable, writeEvalSummary } from '../../worker/eval-run';
import { engineStarter, modelPathOf, openRunData } from '../../worker/run-inputs';
import type { Engine, ModelInfo } from '../../engine/engine';
import { createOrtEngine, exportCheckpointToOnnx, onnxExportCurrent, onnxExportDir } from '../../engine/ort';
import { Progress } from '../../worker/progress';
import { parseStep } from './train';

const USAGE = `usage: ivgr eval <run|checkpoint> [options]

Evaluates a checkpoint (default: the run's latest) on a split, appends each
sample to <run>/events/eval.jsonl, rewrites <run>/eval-summary.json and
prints the table (checkpoint x mode x engine, and dataset when the run has
several: n, accuracy, 95% CI, mean IoU, hit@0.5).

  --mode <m,..>     textual, grounded, tool (default: all three)
  --split <name>    dataset split (default: test)
  --dataset <name>  only this one of the run's datasets (default: all)
  --limit <n>       only the first n questions
  --label <name>    name of the checkpoint in the table (default: sft / step-N)
  --engine <e>      torch (PyTorch) or ort (ONNX Runtime in this process, on
                    the checkpoint's ONNX export, made first when missing or
                    stale); default: the run config's engine
  --provider <p>    ONNX Runtime execution provider: cpu (default) or cuda
  --threads <n>     ONNX Runtime threads per session
  --json            print the eval-summary.json object instead of the table
  --python <path>   Python of the engine (and of the ONNX export)`;

/**
 * The ORT engine on a checkpoint's ONNX export. The PyTorch engine runs only when the export is
 * missing or stale (`model` is the base model it loads before restoring the checkpoint).
 */
async function startOrt(
  checkpointDir: string,
  opts: { provider: 'cpu' | 'cuda'; threads?: number; python?: string; model: () => Promise<string>; log: (text: string) => void },
): Promise<{ engine: Engine; info: ModelInfo }> {
  const dir = (await onnxExportCurrent(checkpointDir))
    ? onnxExportDir(checkpointDir)
    : await exportCheckpointToOnnx({
        checkpointDir,
        model: await opts.model(),
        ...(opts.python ? { python: opts.python } : {}),
        log: (line) => opts.log(line),
      });
  const engine = createOrtEngine({
    modelDir: dir,
    provider: opts.provider,
    ...(opts.threads ? { threads: opts.threads } : {}),
    log: opts.log,
  });
  return { engine, info: await engine.load({ model: dir }) };
}

export function checkpointLabel(phase: 'base' | 'sft' | 'rl', step: number): string {
  return phase === 'rl' ? `step-${step}` : phase;
}

export function parseModes(spec: string): EvalMode[] {
  const modes = spec
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of modes)
    if (!(EVAL_MODES as readonly string[]).includes(m))
      throw new CliError(`--mode: '${m}' is not a mode (expected ${EVAL_MODES.join(', ')})`);
  if (modes.length === 0) throw new CliError('--mode: expected at least one mode');
  return modes as EvalMode[];
}

export const evalCommand: Command = {
  summary: 'evaluate a checkpoint in the three modes',
  async run(args) {
    const options = {
      mode: { type: 'string', default: EVAL_MODES.join(',') },
      split: { type: 'string', default: 'test' },
      dataset: { type: 'string' },
      limit: { type: 'string' },
      label: { type: 'string' },
      json: { type: 'boolean', default: false },
      python: { type: 'string' },
      engine: { type: 'string' },
      provider: { type: 'string', default: 'cpu' },
      threads: { type: 'string' },
    } as const;
    const { values, positionals } = commandArgs(args, options, USAGE);
    if (printedHelp(values.help, USAGE)) return 0;
    const target = positionals[0];
    if (!target || positionals.length > 1) throw new CliError(`expected a run or checkpoint folder\n\n${USAGE}`);
    const modes = parseModes(values.mode);
    const limit = parseStep(values.limit, '--limit') ?? 0;
    const engineName = values.engine ?? undefined;
    if (engineName !== undefined && engineName !== 'torch' && engineName !== 'ort')
      throw new CliError(`--engine: '${engineName}' is not an engine (expected torch or ort)`);
    if (values.provider !== 'cpu' && values.provider !== 'cuda')
      throw new CliError(`--provider: '${values.provider}' is not an execution provider (expected cpu or cuda)`);
    const provider: 'cpu' | 'cuda' = values.provider;
    const threads = parseStep(values.threads, '--threads');
    if (threads === 0) throw new CliError('--threads: expected at least 1');
    let checkpointDir: string;
    let runDir: string;
    if (existsSync(resolve(target, WORKER_STATE_FILE))) {
      checkpointDir = resolve(target);
      runDir = dirname(dirname(checkpointDir));
      if (basename(dirname(checkpointDir)) !== 'checkpoints')
        throw new CliError(`${target}: a checkpoint must be <run>/checkpoints/<step>`);
    } else {
      runDir = resolve(target);
      const latest = latestCheckpoint(runDir);
      if (!existsSync(resolve(runDir, 'run.json')))
        throw new CliError(`${target}: neither a run folder (run.json) nor a checkpoint (${WORKER_STATE_FILE})`);
      if (!latest) throw new CliError(`${target}: the run has no checkpoint yet`);
      checkpointDir = latest.dir;
    }
    const run = readRunJson(runDir);
    const state = readWorkerState(checkpointDir);
    const label = values.label ?? checkpointLabel(state.phase ?? 'rl', state.step);
    const progress = new Progress();
    const log = (text: string) => progress.line(text);
    const data = await openRunData(run, run.config, log);
    const which = engineName ?? run.config.engine;
    const env = {
      ...(values.python ? { python: values.python } : {}),
      log: (level: 'info' | 'warn' | 'error', text: string) => level !== 'info' && log(text),
    };
    // A TRL checkpoint is a model folder: the engine loads it instead of restoring engine state into the base model.
    const trl = state.trainer === 'trl';
    if (trl && which === 'ort') throw new CliError(`${checkpointDir}: a TRL checkpoint is evaluated with --engine torch`);
    const { engine, info } =
      which === 'ort'
        ? await startOrt(checkpointDir, {
            provider,
            ...(threads ? { threads } : {}),
            ...(values.python ? { python: values.python } : {}),
            model: () => modelPathOf(run.config, data, values.python, env.log),
            log,
          })
        : await engineStarter(trl ? { ...run.config, model: realpathSync(checkpointDir) } : run.config, data, env)();
    const events = new EventSink(runDir);
    try {
      await evaluateCheckpoints(runDir, engine, info, data, {
        // The ORT engine opens the checkpoint's export itself; the PyTorch engine restores the checkpoint.
        labels: [{ label, dir: which === 'ort' || trl ? null : checkpointDir }],
        engine: which,
        modes,
        split: values.split,
        ...(values.dataset !== undefined ? { dataset: values.dataset } : {}),
        limit,
        events,
        log,
        onProgress: (l, done, total) => progress.update(l, done, total),
      });
    } finally {
      progress.done();
      events.close();
      await engine.shutdown();
    }
    const summary = await writeEvalSummary(runDir, values.split);
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else process.stdout.write(formatEvalTable(summary.rows, { byDataset: data.datasets.length > 1 }) + '\n');
    return 0;
  },
};
