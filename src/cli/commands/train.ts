/** `ivgr train <config>`: creates a run directory from a config and trains it. */
import { dirname, join, resolve } from 'node:path';
import {
  commandArgs,
  configFileArg,
  detachedWorkerArgs,
  foregroundWorkerOptions,
  newRunFolder,
  printedHelp,
  WORKER_OPTIONS,
} from '../args';
import { CliError, type Command } from '../cli-error';
import { loadConfigFile } from '../../run/config-load';
import { createRunDir } from '../../run/run-dir';
import { missingRunInputs } from '../../worker/run-inputs';
import { runWorker } from '../../worker/worker';
import { spawnCliWorker } from '../../run/detached-worker';

const USAGE = `usage: ivgr train <config.yaml|json> [options]

Creates runs/<name>-<time>/ from the config and runs iVGR in the foreground
(Ctrl-C pauses with a checkpoint, a second Ctrl-C stops).

  --runs-dir <dir>   where runs are created (default $IVGR_RUNS or ./runs)
  --run-id <id>      name of the run folder (default: config name + time)
  --detach           start the worker in the background and print the run folder
  --until <step>     stop with a checkpoint after this step
  --python <path>    Python of the engine (default $IVGR_PYTHON, else .venv)`;

export const trainCommand: Command = {
  summary: 'train a run from a config file',
  async run(args) {
    const options = { 'runs-dir': { type: 'string' }, 'run-id': { type: 'string' }, ...WORKER_OPTIONS } as const;
    const { values, positionals } = commandArgs(args, options, USAGE);
    if (printedHelp(values.help, USAGE)) return 0;
    const { file, loaded } = configFileArg(positionals, USAGE, loadConfigFile);
    const missing = missingRunInputs(loaded.resolved, dirname(resolve(file)));
    if (missing.length > 0) throw new CliError(`${file}: ${missing.join('; ')}`, 1);
    const flags = { until: parseStep(values.until, '--until'), python: values.python };
    const { id, runDir } = newRunFolder(values, loaded.resolved.name);
    createRunDir(runDir, { id, given: loaded.given, config: loaded.resolved, configFile: resolve(file), engine: loaded.resolved.engine });
    if (values.detach) {
      const pid = await spawnCliWorker(runDir, detachedWorkerArgs(flags));
      process.stdout.write(`${runDir}\n`);
      process.stderr.write(`worker ${pid} started; output in ${join(runDir, 'worker.log')}\n`);
      return 0;
    }
    process.stderr.write(`run ${runDir}\n`);
    const status = await runWorker(runDir, foregroundWorkerOptions(flags));
    process.stdout.write(`${runDir}\n`);
    return status === 'finished' || status === 'stopped' || status === 'paused' ? 0 : 1;
  },
};

export function parseStep(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${flag}: expected a non-negative integer, got '${v}'`);
  return n;
}
