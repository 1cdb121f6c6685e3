/** `ivgr resume <run>`: continues a paused worker, or restarts a stopped/crashed run from its latest checkpoint. */
import { resolve } from 'node:path';
import { connect } from 'node:net';
import { commandArgs, detachedWorkerArgs, foregroundWorkerOptions, printedHelp, WORKER_OPTIONS } from '../args';
import { CliError, type Command } from '../cli-error';
import { readRunJson, runPaths } from '../../run/run-dir';
import { summarizeRun } from '../../run/run-list';
import { latestCheckpoint } from '../../run/checkpoints';
import { runWorker } from '../../worker/worker';
import { spawnCliWorker } from '../../run/detached-worker';
import { parseStep } from './train';
import { pretrainIn } from './pretrain';

const USAGE = `usage: ivgr resume <run> [options]

When the run's worker is alive and paused, tells it to continue. Otherwise
starts a worker on the run that continues from its latest checkpoint (steps
after that checkpoint are trained again; lines already written stay).

  --detach           start the worker in the background
  --until <step>     stop with a checkpoint after this step
  --python <path>    Python of the engine`;

export const resumeCommand: Command = {
  summary: 'continue a paused, stopped or crashed run',
  async run(args) {
    const { values, positionals } = commandArgs(
      args,
      { foreground: { type: 'boolean', default: false }, ...WORKER_OPTIONS } as const,
      USAGE,
    );
    if (printedHelp(values.help, USAGE)) return 0;
    const arg = positionals[0];
    if (!arg || positionals.length > 1) throw new CliError(`expected one run folder\n\n${USAGE}`);
    const runDir = resolve(arg);
    let run;
    try {
      run = readRunJson(runDir);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    if (run.kind === 'pretrain' && run.pretrain) {
      if (run.status === 'finished') throw new CliError(`${runDir}: the pretraining has finished; its model is in ${runDir}/model`);
      process.stderr.write(`run ${runDir}: continuing the pretraining from its newest checkpoint\n`);
      return pretrainIn(runDir, run.pretrain, { python: values.python });
    }
    const summary = summarizeRun(runDir);
    if (summary.status === 'paused') {
      await sendControl(runPaths(runDir).controlSocket, { type: 'resume' });
      process.stderr.write(`resumed the paused worker ${run.pid}\n`);
      return 0;
    }
    if (summary.status === 'running' && run.pid !== process.pid)
      throw new CliError(`${runDir}: a worker (pid ${run.pid}) is already running it`);
    if (summary.status === 'finished' && !values.foreground)
      throw new CliError(`${runDir}: the run has finished (${summary.step}/${summary.totalSteps} steps)`);
    const flags = { until: parseStep(values.until, '--until'), python: values.python };
    if (values.detach) {
      const pid = await spawnCliWorker(runDir, detachedWorkerArgs(flags));
      process.stderr.write(`worker ${pid} started\n`);
      return 0;
    }
    const from = latestCheckpoint(runDir);
    process.stderr.write(`run ${runDir}: ${from ? `continuing from checkpoint ${from.step}` : 'starting'}\n`);
    const status = await runWorker(runDir, foregroundWorkerOptions(flags));
    return status === 'crashed' ? 1 : 0;
  },
};

/** Sends one control message and waits for the worker's greeting, so the message is known delivered. */
function sendControl(socketPath: string, message: object): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const s = connect(socketPath);
    s.once('error', (err) => reject(new CliError(`cannot reach the worker at ${socketPath}: ${err.message}`, 1)));
    s.once('data', () => {
      s.end(JSON.stringify(message) + '\n', () => resolvePromise());
    });
  });
}
