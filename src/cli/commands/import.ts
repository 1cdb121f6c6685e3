/** `ivgr import <dump.jsonl | rollout_data_dir> --out <run>`: converts a verl or TRL rollout dump into a run directory. */
import { existsSync, rmSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { conventionFlag, parsePositionalArgs, printedHelp } from '../args';
import { COORD_CONVENTIONS } from '../../core/types';
import { CliError, type Command } from '../cli-error';
import { DumpSource } from '../../run/dump-source';
import { ImportImages } from '../../run/import-images';
import { createRunDir, readRunJson, updateRunJson } from '../../run/run-dir';
import { runConfigSchema } from '../../run/config-schema';
import { followDump } from '../import-follow';
import { ImportWriter } from '../import-writer';

const USAGE = `usage: ivgr import <dump.jsonl | dir> --out <run> [--follow] [--images <dataset>] [--convention <c>]

Converts an external rollout dump into a run folder the panel can open:
verl generation dumps (input, output, score, step) or TRL GRPO completions
logs (prompt, completion, reward columns or rewards, step, advantage).

  <dir>               a verl rollout_data_dir: one {step}.jsonl per step, one run
  --follow            keep reading new step files and appended lines while the
                      trainer writes them (the run shows live); Ctrl-C stops
  --images <dataset>  join each rollout to its dataset row for its image (verl or
                      EasyR1 parquet with image bytes or paths, or JSONL with image
                      paths), by an id column (id, index, extra_info.index) or by
                      the question text; Qwen <|box_start|> boxes are converted
                      with the image's size
  --convention <c>    how the model writes box coordinates: qwen2-1000 (Qwen2-VL,
                      default), qwen25-abs (Qwen2.5-VL, pixels of its resized
                      input), relative, pixels`;

export const importCommand: Command = {
  summary: 'convert a verl / TRL rollout dump (a file or a verl rollout_data_dir) into a run folder',
  async run(args) {
    const { values, positionals } = parsePositionalArgs(
      args,
      {
        out: { type: 'string' },
        follow: { type: 'boolean', default: false },
        images: { type: 'string' },
        convention: { type: 'string', default: 'qwen2-1000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      USAGE,
    );
    if (printedHelp(values.help, USAGE)) return 0;
    const path = positionals[0];
    if (!path || !values.out) throw new CliError(`expected a dump file or folder and --out\n\n${USAGE}`);
    const source = attempt(() => new DumpSource(path));
    if (source.isDirectory && !values.follow && !source.hasStepFiles())
      throw new CliError(`${path}: no {step}.jsonl files (expected a verl rollout_data_dir)`);
    const out = resolve(values.out);
    const convention = conventionFlag(values.convention, COORD_CONVENTIONS);
    const images = values.images ? await attemptAsync(() => ImportImages.open(values.images!, out, warn)) : null;

    if (values.follow) {
      makeRun(out, path, [], 1);
      await followDump(source, out, { images, convention }, warn);
      process.stdout.write(`${out}\n`);
      return 0;
    }

    const existed = existsSync(out);
    makeRun(out, path, [], 1);
    const writer = new ImportWriter(out, images, undefined, convention);
    const formats = new Set<string>();
    const torn: string[] = [];
    try {
      // A step file at a time: a long run's rollouts are never all in memory.
      for (;;) {
        const batch = attempt(() => source.read(1, true));
        if (batch.caughtUp) break;
        for (const f of batch.formats) formats.add(f);
        torn.push(...batch.torn);
        const steps = await writer.add(batch.rows);
        if (source.isDirectory && steps.length > 0) writer.settle(steps.at(-1)!);
      }
      if (writer.rollouts === 0) throw new CliError(`${path}: no rollouts found`);
    } catch (err) {
      writer.close();
      // A bad dump leaves no half-written run behind.
      if (!existed) rmSync(out, { recursive: true, force: true });
      throw err;
    }
    writer.close();
    const steps = Math.max(1, writer.lastStep);
    const { config } = readRunJson(out);
    updateRunJson(out, { status: 'finished', step: steps, given: given(path, [...formats]), config: { ...config, steps } });
    const notes = [
      ...(torn.length > 0 ? [`skipped the torn last line ${torn.join(', ')}`] : []),
      ...(writer.late > 0 ? [`skipped ${writer.late} lines written for steps already complete`] : []),
      ...(images ? [images.summary()] : []),
    ];
    warn(
      `imported ${writer.rollouts} rollouts over ${writer.stepCount} steps (${[...formats].join(', ')})${notes.map((n) => `; ${n}`).join('')}`,
    );
    process.stdout.write(`${out}\n`);
    return 0;
  },
};

function given(path: string, formats: string[]): { importedFrom: string; formats: string[] } {
  return { importedFrom: resolve(path), formats };
}

function makeRun(out: string, path: string, formats: string[], steps: number): void {
  attempt(() =>
    createRunDir(out, { id: basename(out), given: given(path, formats), config: runConfigSchema.parse({ steps }), engine: 'import' }),
  );
}

function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Runs `fn`, turning what it throws into a one-line CLI error. */
function attempt<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

async function attemptAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
