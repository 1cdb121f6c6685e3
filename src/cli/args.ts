/** What the subcommands share in reading their flags: parse errors, --help, the coordinate convention and the worker's flags. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CoordConvention } from '../core/types';
import type { WorkerOptions } from '../worker/worker';
import { join, resolve } from 'node:path';
import { CliError } from './cli-error';
import { ConfigError } from '../run/config-load';
import { newRunId } from '../run/run-dir';
import { defaultRunsRoot } from '../run/run-list';

/** node:util parseArgs, a parse error reported as bad usage followed by the command's usage. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${usage}`);
  }
}

/** The one config file a command takes, read by `load`; a bad file is bad usage with its file:line message. */
export function configFileArg<T>(positionals: readonly string[], usage: string, load: (file: string) => T): { file: string; loaded: T } {
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CliError(`expected one config file\n\n${usage}`);
  try {
    return { file, loaded: load(file) };
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** The folder of a new run: --run-id (default: the config's name and the time) under --runs-dir. */
export function newRunFolder(
  values: { 'runs-dir'?: string | undefined; 'run-id'?: string | undefined },
  name: string | undefined,
): { id: string; runDir: string } {
  const id = values['run-id'] ?? newRunId(name);
  return { id, runDir: join(resolve(values['runs-dir'] ?? defaultRunsRoot()), id) };
}

/** A subcommand's flags and positional arguments (with --help), parsed as parseCommandArgs does. */
export function commandArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, usage: string) {
  return parseCommandArgs({ args, allowPositionals: true, options: { ...options, ...HELP_OPTION } }, usage);
}

/** As commandArgs, for a subcommand that takes flags only. */
export function flagArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, usage: string) {
  return parseCommandArgs({ args, options: { ...options, ...HELP_OPTION } }, usage);
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** The flags of a command that starts a worker: in the background, until a step, with a Python. */
export const WORKER_OPTIONS = {
  detach: { type: 'boolean', default: false },
  until: { type: 'string' },
  python: { type: 'string' },
} as const;

/** parseCommandArgs for a command that takes positional arguments besides its `options`. */
export function parsePositionalArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, usage: string) {
  return parseCommandArgs({ args, allowPositionals: true as const, options }, usage);
}

/** Prints the usage when --help was given; the command then exits 0. */
export function printedHelp(help: boolean | undefined, usage: string): boolean {
  if (help) process.stdout.write(usage + '\n');
  return help === true;
}

/** --convention, one of `allowed` (listed in the error in that order). */
export function conventionFlag(value: string, allowed: readonly CoordConvention[]): CoordConvention {
  const convention = value as CoordConvention;
  if (!allowed.includes(convention)) throw new CliError(`--convention must be one of ${allowed.join(', ')}, got '${value}'`);
  return convention;
}

/** The --until and --python flags that train and resume hand to the worker. */
export interface WorkerFlags {
  until: number | undefined;
  python: string | undefined;
}

/** The flags as a detached worker's command-line arguments. */
export function detachedWorkerArgs(f: WorkerFlags): string[] {
  return [...(f.until !== undefined ? ['--until', String(f.until)] : []), ...(f.python ? ['--python', f.python] : [])];
}

/** The flags as the options of a worker run in this process (which also handles Ctrl-C). */
export function foregroundWorkerOptions(f: WorkerFlags): WorkerOptions {
  return { signals: true, ...(f.until !== undefined ? { untilStep: f.until } : {}), ...(f.python ? { python: f.python } : {}) };
}
