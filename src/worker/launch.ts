/**
 * Starting workers from the command line: in the foreground (this process
 * becomes the worker) or detached (a new `ivgr resume <run>` process that
 * outlives the terminal, its output in <run>/worker.log).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { runPaths } from '../run/run-dir';

/** Default folder that holds runs: $IVGR_RUNS, else ./runs. */
export function defaultRunsRoot(): string {
  return resolve(process.env.IVGR_RUNS ?? 'runs');
}

/** Spawns a detached worker for `runDir`; returns its pid. */
export function spawnDetachedWorker(runDir: string, extraArgs: string[] = []): number {
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell which script to re-run for a detached worker');
  const log = openSync(runPaths(runDir).log, 'a');
  try {
    const child = spawn(process.execPath, [...process.execArgv, script, 'resume', runDir, '--foreground', ...extraArgs], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    if (child.pid === undefined) throw new Error('the worker process did not start');
    return child.pid;
  } finally {
    closeSync(log);
  }
}
