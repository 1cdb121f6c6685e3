/**
 * The one way a worker is started detached (by the extension, or by `ivgr train --detach`): in
 * its own process group, stdout and stderr appended to `<run>/worker.log`, unref'd, so the
 * caller may exit (or its window reload) without touching the run.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isPidAlive } from './process-state';
import { runPaths } from './run-dir';

export interface SpawnSpec {
  /** Executable, normally the Node binary. */
  command: string;
  args: string[];
  runDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts the worker; resolves with its pid once it has started. */
export function spawnDetached(spec: SpawnSpec): Promise<number> {
  mkdirSync(spec.runDir, { recursive: true });
  const log = openSync(runPaths(spec.runDir).log, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    return new Promise((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start ${spec.command}: ${err.message}`)));
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid as number);
      });
    });
  } finally {
    closeSync(log);
  }
}

/** Re-runs this CLI as `resume <run> --foreground` detached; resolves with the worker's pid. */
export function spawnCliWorker(runDir: string, extraArgs: string[] = []): Promise<number> {
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell which script to re-run for a detached worker');
  return spawnDetached({
    command: process.execPath,
    args: [...process.execArgv, ...workerArgs.foreground(script, runDir), ...extraArgs],
    runDir,
  });
}

/**
 * Resolves once a started worker has written run.json (a panel opened earlier would show
 * no title and resolve images against the wrong root); rejects if the worker exits first.
 */
export async function waitForRunJson(runDir: string, pid: number, timeoutMs = 60_000): Promise<void> {
  const { runJson: file, log } = runPaths(runDir);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (!isPidAlive(pid)) throw new Error(`the worker exited before creating ${file}; see ${log}`);
    if (Date.now() > deadline) throw new Error(`the worker did not create ${file} within ${Math.round(timeoutMs / 1000)} s; see ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Arguments of the `ivgr` CLI (dist/cli.js) for the entry points a client starts. */
export const workerArgs = {
  /** Creates `runDir` from the config and trains in the foreground of the (detached) process. */
  train: (cli: string, config: string, runDir: string): string[] => [
    cli,
    'train',
    config,
    '--runs-dir',
    dirname(runDir),
    '--run-id',
    basename(runDir),
  ],
  resume: (cli: string, runDir: string): string[] => [cli, 'resume', runDir],
  /** The worker itself, in this process: what `--detach` starts. */
  foreground: (cli: string, runDir: string): string[] => [cli, 'resume', runDir, '--foreground'],
  evaluate: (cli: string, runDir: string, checkpoint: number, split: string, modes: string[]): string[] => [
    cli,
    'eval',
    join(runDir, 'checkpoints', String(checkpoint)),
    '--split',
    split,
    '--mode',
    modes.join(','),
  ],
  importDump: (cli: string, dump: string, runDir: string): string[] => [cli, 'import', dump, '--out', runDir],
};
