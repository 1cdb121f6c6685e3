/**
 * The run worker: owns one run directory, drives the engine through the
 * training loop, serves the control socket, and keeps run.json's status true.
 * It runs in the foreground from `ivgr train` / `ivgr resume`, or detached
 * when the extension (or `--detach`) spawns it.
 */
import type { RunStatus } from '../core/types';
import { readRunJson, updateRunJson } from '../run/run-dir';
import { EventSink } from './event-sink';
import { Trainer } from './trainer';
import type { Progress } from './progress';
import { WorkerShell } from './worker-shell';
import { openRunData, engineStarter } from './run-inputs';
import { evaluateCheckpoints } from './eval-run';
import { runTrlWorker } from '../trl/trl-worker';

export interface WorkerOptions {
  /** Stop with a checkpoint once this many steps are done (as if a stop arrived then). */
  untilStep?: number;
  python?: string;
  /** Install SIGINT/SIGTERM handlers (a foreground or detached worker process). */
  signals?: boolean;
  progress?: Progress;
}

export async function runWorker(runDir: string, opts: WorkerOptions = {}): Promise<RunStatus> {
  const run = readRunJson(runDir);
  const config = run.config;
  if (config.trainer === 'trl') return runTrlWorker(runDir, opts);
  const shell = await WorkerShell.open(runDir, run, opts);
  const { progress } = shell;
  const events = new EventSink(runDir, (file, offset, record) => shell.event(file, offset, record as Record<string, unknown>));
  let trainer: Trainer | null = null;
  let final: RunStatus = 'crashed';
  try {
    const data = await openRunData(run, config, (text) => shell.write('info', text));
    const start = engineStarter(config, data, { python: opts.python, log: (level, text) => shell.write(level, text, 'engine') });
    const t = new Trainer(runDir, config, data.train, data.root, start, events, {
      log: (level, text) => shell.write(level, text),
      progress: (p) => {
        shell.setStatus({
          step: p.step,
          phase: p.phase,
          ...(p.reward ? { reward: p.reward } : {}),
          ...(p.message ? { message: p.message } : {}),
        });
        if (p.phase === 'idle' && p.step > 0) {
          updateRunJson(runDir, { step: p.step });
          const r = p.reward ?? {};
          progress.update('train', p.step, config.steps, `reward g=${fmt(r.grounded)} t=${fmt(r.textual)}`);
        } else if (p.phase === 'sft' && p.message)
          progress.update('warm start', Number(/(\d+)\//.exec(p.message)?.[1] ?? 0), config.sft.steps);
      },
      boundary: async (phase) => {
        const step = t.step;
        if (phase === 'sft' && shell.pending === null) return 'continue';
        const where = place();
        if (phase === 'rl' && config.evalEvery > 0 && step > 0 && step % config.evalEvery === 0 && lastEval < step) {
          lastEval = step;
          shell.setStatus({ phase: 'eval' });
          await evaluateCheckpoints(runDir, t.currentEngine, t.modelInfo, data, {
            labels: [{ label: `step-${step}`, dir: null }],
            modes: ['textual'],
            split: config.splits.eval,
            limit: config.evalLimit,
            events,
            log: (text) => shell.write('info', text),
          });
        }
        if (phase === 'rl' && opts.untilStep !== undefined && step >= opts.untilStep) shell.request('stop');
        if (shell.pending === 'pause') {
          await t.checkpointOnce();
          shell.pending = null;
          // run.json first: a client that sees the broadcast and then reads the folder finds the same state.
          updateRunJson(runDir, { status: 'paused', step });
          shell.setStatus({ status: 'paused', phase: 'idle' });
          shell.write('info', `paused ${where} with a checkpoint`);
          if ((await shell.nextRequest()) === 'resume') {
            shell.resumed();
            updateRunJson(runDir, { status: 'running' });
            shell.setStatus({ status: 'running' });
            shell.write('info', `resumed ${where}`);
          }
        }
        if (shell.pending === 'stop') {
          await t.checkpointOnce();
          return 'stop';
        }
        shell.setStatus({ status: 'running' });
        return 'continue';
      },
    });
    let lastEval = 0;
    /** Where the loop stands, for log lines: inside the warm start or at an RL step. */
    const place = (): string =>
      t.warmStartDone !== null ? `in the warm start after SFT step ${t.warmStartDone}/${config.sft.steps}` : `at step ${t.step}`;
    trainer = t;
    shell.setStatus({ phase: 'load' });
    await t.open();
    const how = await t.run();
    await t.checkpointOnce();
    progress.done();
    final = how === 'finished' ? 'finished' : 'stopped';
    shell.write('info', `${final} ${place()}`);
  } catch (err) {
    shell.failed(err);
    await shutdown();
    throw err;
  }
  shell.ended(final, trainer.step);
  await shutdown();
  return final;

  async function shutdown(): Promise<void> {
    events.close();
    await trainer?.shutdown();
    await shell.close();
  }
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toFixed(3);
}
