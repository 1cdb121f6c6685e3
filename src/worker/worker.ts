/**
 * The run worker: owns one run directory, drives the engine through the
 * training loop, serves the control socket, and keeps run.json's status true.
 * It runs in the foreground from `ivgr train` / `ivgr resume`, or detached
 * when the extension (or `--detach`) spawns it.
 */
import { appendFileSync } from 'node:fs';
import type { RunStatus } from '../core/types';
import type { WorkerStatus } from '../core/protocol/control';
import { readRunJson, runPaths, updateRunJson } from '../run/run-dir';
import { serveControl, type ControlServer } from './control-server';
import { EventSink } from './event-sink';
import { Trainer } from './trainer';
import { Progress } from './progress';
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

type Request = 'pause' | 'resume' | 'stop';

export async function runWorker(runDir: string, opts: WorkerOptions = {}): Promise<RunStatus> {
  const paths = runPaths(runDir);
  const run = readRunJson(runDir);
  const config = run.config;
  if (config.trainer === 'trl') return runTrlWorker(runDir, opts);
  const progress = opts.progress ?? new Progress();
  const status: WorkerStatus = {
    status: 'running',
    step: run.step ?? 0,
    totalSteps: config.steps,
    phase: 'starting',
    reward: {},
    pid: process.pid,
  };

  let control: ControlServer | null = null;
  const log = (level: 'info' | 'warn' | 'error', text: string, source: 'worker' | 'engine' = 'worker'): void => {
    appendFileSync(paths.log, `${new Date().toISOString()} ${level} ${source}: ${text}\n`);
    control?.broadcast({ type: 'log', level, source, text });
    if (source === 'worker' || level !== 'info') progress.line(`${level === 'info' ? '' : `${level}: `}${text}`);
  };
  const setStatus = (patch: Partial<WorkerStatus>): void => {
    Object.assign(status, patch);
    control?.broadcast({ type: 'status', status: { ...status } });
  };

  updateRunJson(runDir, { status: 'running', pid: process.pid, message: undefined });

  let pending: Request | null = null;
  let wake: (() => void) | null = null;
  const request = (r: Request): void => {
    if (r === 'resume' && pending === 'pause') pending = null;
    else if (r === 'resume' && status.status === 'paused') pending = 'resume';
    else if (r !== 'resume' && pending !== 'stop') pending = r;
    wake?.();
  };

  control = await serveControl(
    paths.controlSocket,
    run.id,
    () => ({ ...status }),
    (m) => request(m.type),
    (w) => log('warn', w),
  );

  let interrupts = 0;
  const onSigint = (): void => {
    interrupts += 1;
    if (interrupts === 1 && status.status !== 'paused') {
      progress.line('pausing at the end of this step (Ctrl-C again stops)');
      request('pause');
    } else {
      progress.line('stopping at the end of this step');
      request('stop');
    }
  };
  const onSigterm = (): void => request('stop');
  if (opts.signals) {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
  }

  const events = new EventSink(runDir, (file, offset, record) =>
    control?.broadcast({ type: 'event', file, offset, record: record as Record<string, unknown> }),
  );
  let trainer: Trainer | null = null;
  let final: RunStatus = 'crashed';
  try {
    const data = await openRunData(run, config, (text) => log('info', text));
    const start = engineStarter(config, data, { python: opts.python, log: (level, text) => log(level, text, 'engine') });
    const t = new Trainer(runDir, config, data.train, data.root, start, events, {
      log: (level, text) => log(level, text),
      progress: (p) => {
        setStatus({
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
        if (phase === 'sft' && pending === null) return 'continue';
        const where = place();
        if (phase === 'rl' && config.evalEvery > 0 && step > 0 && step % config.evalEvery === 0 && lastEval < step) {
          lastEval = step;
          setStatus({ phase: 'eval' });
          await evaluateCheckpoints(runDir, t.currentEngine, t.modelInfo, data, {
            labels: [{ label: `step-${step}`, dir: null }],
            modes: ['textual'],
            split: config.splits.eval,
            limit: config.evalLimit,
            events,
            log: (text) => log('info', text),
          });
        }
        if (phase === 'rl' && opts.untilStep !== undefined && step >= opts.untilStep && pending !== 'stop') pending = 'stop';
        if (pending === 'pause') {
          await t.checkpointOnce();
          pending = null;
          // run.json first: a client that sees the broadcast and then reads the folder finds the same state.
          updateRunJson(runDir, { status: 'paused', step });
          setStatus({ status: 'paused', phase: 'idle' });
          log('info', `paused ${where} with a checkpoint`);
          while (pending === null) await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          if ((pending as Request | null) === 'resume') {
            pending = null;
            interrupts = 0;
            updateRunJson(runDir, { status: 'running' });
            setStatus({ status: 'running' });
            log('info', `resumed ${where}`);
          }
        }
        if (pending === 'stop') {
          await t.checkpointOnce();
          return 'stop';
        }
        setStatus({ status: 'running' });
        return 'continue';
      },
    });
    let lastEval = 0;
    /** Where the loop stands, for log lines: inside the warm start or at an RL step. */
    const place = (): string =>
      t.warmStartDone !== null ? `in the warm start after SFT step ${t.warmStartDone}/${config.sft.steps}` : `at step ${t.step}`;
    trainer = t;
    setStatus({ phase: 'load' });
    await t.open();
    const how = await t.run();
    await t.checkpointOnce();
    progress.done();
    final = how === 'finished' ? 'finished' : 'stopped';
    log('info', `${final} ${place()}`);
  } catch (err) {
    progress.done();
    const message = err instanceof Error ? err.message : String(err);
    log('error', message);
    updateRunJson(runDir, { status: 'crashed', pid: null, message });
    setStatus({ status: 'crashed', message });
    await shutdown();
    throw err;
  }
  updateRunJson(runDir, { status: final, pid: null, step: trainer.step });
  setStatus({ status: final, phase: 'idle' });
  await shutdown();
  return final;

  async function shutdown(): Promise<void> {
    events.close();
    await trainer?.shutdown();
    await control?.close();
    if (opts.signals) {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    }
  }
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toFixed(3);
}
