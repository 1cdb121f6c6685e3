/** Registry of `ivgr` subcommands; each lives in its own module under ./commands. */
import type { Command } from './cli-error';
import { scoreCommand } from './commands/score';
import { parseCommand } from './commands/parse';
import { dataCommand } from './commands/data';
import { trainCommand } from './commands/train';
import { resumeCommand } from './commands/resume';
import { evalCommand } from './commands/eval';
import { runsCommand } from './commands/runs';
import { importCommand } from './commands/import';
import { demoCommand } from './commands/demo';
import { pretrainCommand } from './commands/pretrain';

export const commands: Record<string, Command> = {
  score: scoreCommand,
  parse: parseCommand,
  data: dataCommand,
  pretrain: pretrainCommand,
  train: trainCommand,
  resume: resumeCommand,
  eval: evalCommand,
  runs: runsCommand,
  import: importCommand,
  demo: demoCommand,
};
