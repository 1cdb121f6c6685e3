/** Registry of `ivgr` subcommands; each lives in its own module under ./commands. */
import type { Command } from './cli-error';
import { scoreCommand } from './commands/score';
import { parseCommand } from './commands/parse';
import { dataCommand } from './commands/data';

export const commands: Record<string, Command> = {
  score: scoreCommand,
  parse: parseCommand,
  data: dataCommand,
};
