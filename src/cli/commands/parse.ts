/** `ivgr parse`: one model output from stdin -> its ParseResult as JSON. */
import { readFileSync } from 'node:fs';
import { conventionFlag, parseCommandArgs, printedHelp } from '../args';
import { CliError, type Command } from '../cli-error';
import { parseTrace } from '../../core/trace';
import { COORD_CONVENTIONS, type ImageSize, type ParseOptions } from '../../core/types';

const USAGE = `usage: ivgr parse [options] < trace.txt

Parses one model output read from stdin and prints segments, think text,
answer, boxes (original-image pixels), tool calls and format problems as JSON.
Exits 0 for any trace, however malformed: problems are part of the output.

  --convention <c>        coordinates in the trace: qwen2-1000 (default), qwen25-abs, relative, pixels
  --width <px>            original image width (default 1000)
  --height <px>           original image height (default 1000)
  --resized-width <px>    model input width for qwen25-abs (default: smart resize of the original)
  --resized-height <px>   model input height for qwen25-abs
  --pretty                indent the JSON`;

function size(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new CliError(`--${flag} must be a positive number of pixels, got '${value}'`);
  return n;
}

function resizedSize(width: string | undefined, height: string | undefined): ImageSize | undefined {
  if (width === undefined && height === undefined) return undefined;
  if (width === undefined) throw new CliError('--resized-width is required with --resized-height');
  if (height === undefined) throw new CliError('--resized-height is required with --resized-width');
  return { width: size('resized-width', width), height: size('resized-height', height) };
}

export const parseCommand: Command = {
  summary: 'parse one model output (stdin) into segments, answer, boxes and format problems',
  async run(args) {
    const { values } = parseCommandArgs(
      {
        args,
        strict: true,
        allowPositionals: false,
        options: {
          convention: { type: 'string', default: 'qwen2-1000' },
          width: { type: 'string', default: '1000' },
          height: { type: 'string', default: '1000' },
          'resized-width': { type: 'string' },
          'resized-height': { type: 'string' },
          pretty: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h' },
        },
      },
      USAGE,
    );
    if (printedHelp(values.help, USAGE)) return 0;
    const convention = conventionFlag(values.convention, COORD_CONVENTIONS);
    const opts: ParseOptions = { convention, original: { width: size('width', values.width), height: size('height', values.height) } };
    const resized = resizedSize(values['resized-width'], values['resized-height']);
    if (resized) opts.resized = resized;

    let text: string;
    try {
      text = readFileSync(0, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read the trace from stdin: ${(err as Error).message}`, 1);
    }
    const result = parseTrace(text, opts);
    process.stdout.write(JSON.stringify(result, null, values.pretty ? 2 : undefined) + '\n');
    return 0;
  },
};
