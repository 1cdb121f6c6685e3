/** Registry of `ivgr` subcommands; each lives in its own module under ./commands. */
import type { Command } from './cli-error';
import { scoreCommand } from './commands/score';

export const commands: Record<string, Command> = {
  score: scoreCommand,
};
