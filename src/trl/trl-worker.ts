/**
 * The worker of a `trainer: trl` run: prepares the launch folder, starts `accelerate launch -m
 * ivgr_trl`, and serves the run's control socket like the ivgr trainer's worker. The Python side
 * writes run.json's step and status and the event files; this worker relays new event lines to
 * connected clients. Pause and stop are requests in `<run>/trl/control` that the Python side
 * honours at the next step boundary with a checkpoint; resume relaunches from that checkpoint.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStatus } from '../core/types';
import type { WorkerStatus } from '../core/protocol/control';
import { pythonPath } from '../engine/torch/python-env';
import { readRunJson, runPaths, updateRunJson } from '../run/run-dir';
import { openRunData } from '../worker/run-inputs';
import type { WorkerOptions } from '../worker/worker';
import { WorkerShell } from '../worker/worker-shell';
import { EventFollower } from './event-follower';
import { accelerateCommand, writeTrlLaunch, trlFiles } from './trl-launch';

/** `<run>/trl/control`: the request the Python side reads at each step boundary. */
export function controlFile(runDir: string): string {
  return join(runDir, 'trl', 'control');
}

export async function runTrlWorker(runDir: string, opts: WorkerOptions = {}): Promise<RunStatus> {
  const paths = runPaths(runDir);
  const run = readRunJson(runDir);
  const config = run.config;
  const shell = await WorkerShell.open(runDir, run, {
    ...opts,
    // The Python side reads the request at its next step boundary; a resume before then takes it back.
    onRequest: (pending, status) => {
      if (status.status !== 'running') return;
      if (pending === 'pause' || pending === 'stop') writeFileSync(controlFile(runDir), pending);
      else rmSync(controlFile(runDir), { force: true });
    },
  });
  const { progress } = shell;
  const follower = new EventFollower(runDir, (file, offset, record) => {
    shell.event(file, offset, record);
    if (file === 'metrics' && typeof record.step === 'number') {
      const reward = (record.reward ?? {}) as WorkerStatus['reward'];
      shell.setStatus({ step: record.step, phase: 'idle', reward });
      progress.update('train', record.step, config.steps, `reward g=${fmt(reward.grounded)} t=${fmt(reward.textual)}`);
    }
  });

  let final: RunStatus = 'crashed';
  try {
    const data = await openRunData(run, config, (text) => shell.write('info', text));
    const files = await writeTrlLaunch(trlFiles(join(runDir, 'trl')).dir, config, data, {
      ...(opts.python ? { python: opts.python } : {}),
      log: (text) => shell.write('info', text),
    });
    follower.start();
    for (;;) {
      rmSync(controlFile(runDir), { force: true });
      shell.setStatus({ status: 'running', phase: 'train' });
      // The Python side continues from the newest TRL checkpoint of the run when there is one.
      const extra = opts.untilStep !== undefined ? ['--until', String(opts.untilStep)] : [];
      const code = await launch(runDir, accelerateCommand(opts.python ?? pythonPath(), runDir, files, config, extra), (level, text) =>
        shell.write(level, text),
      );
      follower.poll();
      const after = readRunJson(runDir);
      if (code !== 0) throw new Error(after.message ?? `accelerate launch exited with ${code}; see ${paths.log}`);
      if (after.status !== 'paused' || shell.pending === 'stop') {
        final = after.status === 'paused' ? 'stopped' : after.status;
        break;
      }
      // Paused: this worker stays, so a client can resume it as it resumes the ivgr trainer's.
      if (shell.pending === 'pause') shell.pending = null;
      updateRunJson(runDir, { pid: process.pid });
      shell.setStatus({ status: 'paused', step: after.step, phase: 'idle' });
      shell.write('info', `paused at step ${after.step} with a checkpoint`);
      if ((await shell.nextRequest()) === 'stop') {
        final = 'stopped';
        break;
      }
      shell.resumed();
      shell.write('info', `resuming from the checkpoint of step ${after.step}`);
    }
    progress.done();
    shell.write('info', `${final} at step ${readRunJson(runDir).step}`);
  } catch (err) {
    shell.failed(err);
    await shutdown();
    throw err;
  }
  shell.ended(final);
  await shutdown();
  return final;

  async function shutdown(): Promise<void> {
    follower.stop();
    await shell.close();
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
