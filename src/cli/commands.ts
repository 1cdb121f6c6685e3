/** Registry of `ivgr` subcommands; each lives in its own module under ./commands. */
import type { Command } from './cli-error';

export const commands: Record<string, Command> = {};
