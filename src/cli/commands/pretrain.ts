/** `ivgr pretrain <config>`: perception pretraining of a model from random weights, as a run. */
import { resolve } from 'node:path';
import { configFileArg, newRunFolder, parsePositionalArgs, printedHelp } from '../args';
import { CliError, type Command } from '../cli-error';
import { parseConfigWith, readConfigText } from '../../run/config-load';
import { runConfigSchema } from '../../run/config-schema';
import { pretrainConfigSchema, totalSteps, type PretrainConfig } from '../../run/pretrain-config';
import { createRunDir, readRunJson } from '../../run/run-dir';
import { runPretrain } from '../../worker/pretrain-run';

const USAGE = `usage: ivgr pretrain <config.yaml|json> [options]

Creates runs/<name>-<time>/ and pretrains a model from random weights on perception
questions about synthetic scenes (colour, shape, place, box, word), following the
config's curriculum. Progress goes to the terminal, metrics and held-out scores to
the run folder, checkpoints to <run>/checkpoints/<step>/ and the final model to
<run>/model/ (a model folder that a run config's 'model:' accepts). Ctrl-C pauses
with a checkpoint; 'ivgr resume <run>' continues.

  --runs-dir <dir>   where runs are created (default $IVGR_RUNS or ./runs)
  --run-id <id>      name of the run folder (default: config name + time)
  --threads <n>      CPU threads of the trainer (default 1)
  --python <path>    Python of the engine (default $IVGR_PYTHON, else .venv)`;

export const pretrainCommand: Command = {
  summary: 'pretrain a model from random weights on perception tasks',
  async run(args) {
    const { values, positionals } = parsePositionalArgs(
      args,
      {
        'runs-dir': { type: 'string' },
        'run-id': { type: 'string' },
        threads: { type: 'string' },
        python: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      USAGE,
    );
    if (printedHelp(values.help, USAGE)) return 0;
    const { file, loaded } = configFileArg(positionals, USAGE, (f) => parseConfigWith(pretrainConfigSchema, readConfigText(f), f));
    const config = loaded.resolved;
    const { id, runDir } = newRunFolder(values, config.name);
    createRunDir(runDir, {
      id,
      kind: 'pretrain',
      given: loaded.given,
      // The run list and panel read progress from the run config's steps.
      config: runConfigSchema.parse({ name: config.name, steps: totalSteps(config), seed: config.seed }),
      pretrain: config,
      configFile: resolve(file),
      engine: 'torch',
    });
    process.stderr.write(`run ${runDir}\n`);
    return pretrainIn(runDir, config, { threads: threadsFlag(values.threads), python: values.python });
  },
};

/** Runs or resumes the pretraining in `runDir`; exit code 0 when it finished or paused. */
export async function pretrainIn(
  runDir: string,
  config: PretrainConfig,
  flags: { threads?: number; python?: string | undefined },
): Promise<number> {
  const status = await runPretrain(runDir, config, {
    ...(flags.threads ? { threads: flags.threads } : {}),
    ...(flags.python ? { python: flags.python } : {}),
    log: (line) => process.stderr.write(line + '\n'),
  });
  process.stdout.write(`${runDir}\n`);
  return status === 'finished' || status === 'paused' ? 0 : 1;
}

/** The pretraining recipe of a run folder, or null for a training run. */
export function pretrainRecipe(runDir: string): PretrainConfig | null {
  const run = readRunJson(runDir);
  return run.kind === 'pretrain' && run.pretrain ? run.pretrain : null;
}

function threadsFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--threads: expected a positive integer, got '${v}'`);
  return n;
}
