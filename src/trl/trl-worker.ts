/**
 * The worker of a `trainer: trl` run: prepares the launch folder, starts `accelerate launch -m
 * ivgr_trl`, and serves the run's control socket like the ivgr trainer's worker. The Python side
 * writes run.json's step and status and the event files; this worker relays new event lines to
 * connected clients. Pause and stop are requests in `<run>/trl/control` that the Python side
 * honours at the next step boundary with a checkpoint; resume relaunches from that checkpoint.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStatus } from '../core/types';
import type { WorkerStatus } from '../core/protocol/control';
import { pythonPath } from '../engine/torch/python-env';
import { readRunJson, runPaths, updateRunJson } from '../run/run-dir';
import { serveControl, type ControlServer } from '../worker/control-server';
import { Progress } from '../worker/progress';
import { openRunData } from '../worker/run-inputs';
import type { WorkerOptions } from '../worker/worker';
import { EventFollower } from './event-follower';
import { accelerateCommand, writeTrlLaunch, trlFiles } from './trl-launch';

type Request = 'pause' | 'resume' | 'stop';

/** `<run>/trl/control`: the request the Python side reads at each step boundary. */
export function controlFile(runDir: string): string {
  return join(runDir, 'trl', 'control');
}

export async function runTrlWorker(runDir: string, opts: WorkerOptions = {}): Promise<RunStatus> {
  const paths = runPaths(runDir);
  const run = readRunJson(runDir);
  const config = run.config;
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
  const log = (level: 'info' | 'warn' | 'error', text: string): void => {
    appendFileSync(paths.log, `${new Date().toISOString()} ${level} worker: ${text}\n`);
    control?.broadcast({ type: 'log', level, source: 'worker', text });
    progress.line(`${level === 'info' ? '' : `${level}: `}${text}`);
  };
  const setStatus = (patch: Partial<WorkerStatus>): void => {
    Object.assign(status, patch);
    control?.broadcast({ type: 'status', status: { ...status } });
  };

  let pending: Request | null = null;
  let wake: (() => void) | null = null;
  const request = (r: Request): void => {
    pending = r === 'resume' && status.status !== 'paused' ? pending : r;
    if (r !== 'resume' && status.status === 'running') writeFileSync(controlFile(runDir), r);
    wake?.();
  };
  updateRunJson(runDir, { status: 'running', pid: process.pid, message: undefined });
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
    progress.line(interrupts === 1 ? 'pausing at the end of this step (Ctrl-C again stops)' : 'stopping at the end of this step');
    request(interrupts === 1 && status.status !== 'paused' ? 'pause' : 'stop');
  };
  const onSigterm = (): void => request('stop');
  if (opts.signals) {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
  }
  const follower = new EventFollower(runDir, (file, offset, record) => {
    control?.broadcast({ type: 'event', file, offset, record });
    if (file === 'metrics' && typeof record.step === 'number') {
      const reward = (record.reward ?? {}) as WorkerStatus['reward'];
      setStatus({ step: record.step, phase: 'idle', reward });
      progress.update('train', record.step, config.steps, `reward g=${fmt(reward.grounded)} t=${fmt(reward.textual)}`);
    }
  });

  let final: RunStatus = 'crashed';
  try {
    const data = await openRunData(run, config, (text) => log('info', text));
    const files = await writeTrlLaunch(trlFiles(join(runDir, 'trl')).dir, config, data, {
      ...(opts.python ? { python: opts.python } : {}),
      log: (text) => log('info', text),
    });
    follower.start();
    for (;;) {
      rmSync(controlFile(runDir), { force: true });
      setStatus({ status: 'running', phase: 'train' });
      // The Python side continues from the newest TRL checkpoint of the run when there is one.
      const extra = opts.untilStep !== undefined ? ['--until', String(opts.untilStep)] : [];
      const code = await launch(runDir, accelerateCommand(opts.python ?? pythonPath(), runDir, files, config, extra), log);
      follower.poll();
      const after = readRunJson(runDir);
      if (code !== 0) throw new Error(after.message ?? `accelerate launch exited with ${code}; see ${paths.log}`);
      if (after.status !== 'paused' || pending === 'stop') {
        final = after.status === 'paused' ? 'stopped' : after.status;
        break;
      }
      // Paused: this worker stays, so a client can resume it as it resumes the ivgr trainer's.
      pending = pending === 'pause' ? null : pending;
      updateRunJson(runDir, { pid: process.pid });
      setStatus({ status: 'paused', step: after.step, phase: 'idle' });
      log('info', `paused at step ${after.step} with a checkpoint`);
      while (pending === null) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      if ((pending as Request) === 'stop') {
        final = 'stopped';
        break;
      }
      pending = null;
      interrupts = 0;
      log('info', `resuming from the checkpoint of step ${after.step}`);
    }
    progress.done();
    log('info', `${final} at step ${readRunJson(runDir).step}`);
  } catch (err) {
    progress.done();
    const message = err instanceof Error ? err.message : String(err);
    log('error', message);
    updateRunJson(runDir, { status: 'crashed', pid: null, message });
    setStatus({ status: 'crashed', message });
    await shutdown();
    throw err;
  }
  updateRunJson(runDir, { status: final, pid: null });
  setStatus({ status: final, phase: 'idle' });
  await shutdown();
  return final;

  async function shutdown(): Promise<void> {
    follower.stop();
    await control?.close();
    if (opts.signals) {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    }
  }
}

/** Runs accelerate with its output in worker.log; its own process group keeps a terminal's Ctrl-C away from it. */
function launch(runDir: string, cmd: ReturnType<typeof accelerateCommand>, log: (level: 'info', text: string) => void): Promise<number> {
  log('info', `${cmd.command} ${cmd.args.join(' ')}`);
  const out = openSync(runPaths(runDir).log, 'a');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    process.once('exit', kill);
    child.once('error', (err) => reject(new Error(`cannot start ${cmd.command}: ${err.message}`)));
    child.once('exit', (code, signal) => {
      process.off('exit', kill);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toFixed(3);
}
