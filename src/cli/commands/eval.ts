/** `ivgr eval <run|checkpoint>`: evaluates checkpoints in the textual, grounded and tool modes. */
import { parseArgs } from 'node:util';
import { basename, dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { CliError, type Command } from '../cli-error';
import type { EvalMode } from '../../core/types';
import { readRunJson } from '../../run/run-dir';
import { latestCheckpoint, readWorkerState, WORKER_STATE_FILE } from '../../run/checkpoints';
import { EventSink } from '../../worker/event-sink';
import { EVAL_MODES } from '../../worker/evaluate';
import { evaluateCheckpoints, formatEvalTable, writeEvalSummary } from '../../worker/eval-run';
import { engineStarter, openRunData } from '../../worker/setup';
import { Progress } from '../../worker/progress';
import { parseStep } from './train';

const USAGE = `usage: ivgr eval <run|checkpoint> [options]

Evaluates a checkpoint (default: the run's latest) on a split, appends each
sample to <run>/events/eval.jsonl, rewrites <run>/eval-summary.json and
prints the table (checkpoint x mode: n, accuracy, 95% CI, mean IoU, hit@0.5).

  --mode <m,..>     textual, grounded, tool (default: all three)
  --split <name>    dataset split (default: test)
  --limit <n>       only the first n questions
  --label <name>    name of the checkpoint in the table (default: sft / step-N)
  --json            print the eval-summary.json object instead of the table
  --python <path>   Python of the engine`;

export function checkpointLabel(phase: 'base' | 'sft' | 'rl', step: number): string {
  return phase === 'rl' ? `step-${step}` : phase;
}

export function parseModes(spec: string): EvalMode[] {
  const modes = spec.split(',').map((m) => m.trim()).filter(Boolean);
  for (const m of modes) if (!(EVAL_MODES as readonly string[]).includes(m)) throw new CliError(`--mode: '${m}' is not a mode (expected ${EVAL_MODES.join(', ')})`);
  if (modes.length === 0) throw new CliError('--mode: expected at least one mode');
  return modes as EvalMode[];
}

export const evalCommand: Command = {
  summary: 'evaluate a checkpoint in the three modes',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        mode: { type: 'string', default: EVAL_MODES.join(',') },
        split: { type: 'string', default: 'test' },
        limit: { type: 'string' },
        label: { type: 'string' },
        json: { type: 'boolean', default: false },
        python: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    const target = positionals[0];
    if (!target || positionals.length > 1) throw new CliError(`expected a run or checkpoint folder\n\n${USAGE}`);
    const modes = parseModes(values.mode);
    const limit = parseStep(values.limit, '--limit') ?? 0;
    let checkpointDir: string;
    let runDir: string;
    if (existsSync(resolve(target, WORKER_STATE_FILE))) {
      checkpointDir = resolve(target);
      runDir = dirname(dirname(checkpointDir));
      if (basename(dirname(checkpointDir)) !== 'checkpoints') throw new CliError(`${target}: a checkpoint must be <run>/checkpoints/<step>`);
    } else {
      runDir = resolve(target);
      const latest = latestCheckpoint(runDir);
      if (!existsSync(resolve(runDir, 'run.json'))) throw new CliError(`${target}: neither a run folder (run.json) nor a checkpoint (${WORKER_STATE_FILE})`);
      if (!latest) throw new CliError(`${target}: the run has no checkpoint yet`);
      checkpointDir = latest.dir;
    }
    const run = readRunJson(runDir);
    const state = readWorkerState(checkpointDir);
    const label = values.label ?? checkpointLabel(state.phase ?? 'rl', state.step);
    const progress = new Progress();
    const log = (text: string) => progress.line(text);
    const data = await openRunData(run, run.config, log);
    const start = engineStarter(run.config, data, { ...(values.python ? { python: values.python } : {}), log: (level, text) => level !== 'info' && log(text) });
    const { engine, info } = await start();
    const events = new EventSink(runDir);
    try {
      await evaluateCheckpoints(runDir, engine, info, data, {
        labels: [{ label, dir: checkpointDir }],
        modes,
        split: values.split,
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
    else process.stdout.write(formatEvalTable(summary.rows) + '\n');
    return 0;
  },
};
