/** `ivgr runs`: lists runs with their status (a dead worker's run shows as crashed). */
import { resolve } from 'node:path';
import { flagArgs, printedHelp } from '../args';
import type { Command } from '../cli-error';
import { defaultRunsRoot, listRuns } from '../../run/run-list';

const USAGE = 'usage: ivgr runs [--runs-dir <dir>] [--json]';

export const runsCommand: Command = {
  summary: 'list runs with status',
  async run(args) {
    const { values } = flagArgs(args, { json: { type: 'boolean', default: false }, 'runs-dir': { type: 'string' } } as const, USAGE);
    if (printedHelp(values.help, USAGE)) return 0;
    const runs = listRuns(resolve(values['runs-dir'] ?? defaultRunsRoot()));
    if (values.json) {
      process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
      return 0;
    }
    if (runs.length === 0) {
      process.stdout.write('no runs\n');
      return 0;
    }
    const w = Math.max(...runs.map((r) => r.id.length), 2);
    process.stdout.write(`${'id'.padEnd(w)}  status    step       checkpoint  updated\n`);
    for (const r of runs) {
      const step = `${r.step}/${r.totalSteps}`;
      process.stdout.write(
        `${r.id.padEnd(w)}  ${r.status.padEnd(8)}  ${step.padEnd(9)}  ${String(r.latestCheckpoint ?? '-').padEnd(10)}  ${r.updated}${r.error ? `  (${r.error})` : ''}\n`,
      );
    }
    return 0;
  },
};
