/** An error the CLI reports as one line on stderr with a non-zero exit code (2 = bad usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export interface Command {
  summary: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}
