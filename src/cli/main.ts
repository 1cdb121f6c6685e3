/** The `ivgr` command line: one subcommand per module in ./commands. */
import { commands } from './commands';
import { CliError } from './cli-error';

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ivgr ${name.padEnd(10)} ${c.summary}`);
  return ['usage: ivgr <command> [options]', '', ...lines, '', 'ivgr <command> --help for its options.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`ivgr: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`ivgr ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    // What went wrong outside the program (a file, the engine, a dataset) is said in one line; a bug keeps its stack.
    if (err instanceof Error && !isBug(err)) {
      process.stderr.write(`ivgr ${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function isBug(err: Error): boolean {
  return (
    err instanceof TypeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError ||
    err instanceof RangeError ||
    process.env.IVGR_DEBUG === '1'
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ivgr: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
