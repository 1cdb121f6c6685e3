/** `ivgr data synth|check`: write the synthetic benchmark, or load any dataset and summarise it. */
import type { ParseArgsConfig } from 'node:util';
import { conventionFlag, parseCommandArgs } from '../args';
import { CliError, type Command } from '../cli-error';
import { COORD_CONVENTIONS, type QuestionFamily } from '../../core/types';
import {
  DATASET_FORMATS,
  ensureSyntheticDataset,
  formatSummary,
  loadDataset,
  summarize,
  SYNTHETIC_FAMILIES,
  type DatasetFormat,
} from '../../data';

const USAGE = `usage: ivgr data synth --out <dir> --n <count> --seed <s> [options]
       ivgr data check <path> [--format vstar|hrbench|jsonl|synthetic] [--split <name>] [--json]

synth writes the built-in fine-grained benchmark: <dir>/manifest.json,
<dir>/{train,val,test}.jsonl and <dir>/images/<split>/<id>.png. Images already
rendered by the same generator version, seed and size are reused.

  --out <dir>            dataset folder (created if missing)
  --n <count>            records in total, split 80/10/10 into train/val/test
  --seed <s>             integer seed (0..4294967295)
  --size <px>            long side of each image (default 2048; 448..640 for quick demos; up to 4096)
  --convention <c>       boxes in grounded reference traces: qwen25-abs (default), qwen2-1000, relative, pixels
  --families <list>      comma-separated subset of ${SYNTHETIC_FAMILIES.join(',')}
  --target-scale <f>     target size as a fraction of sqrt(width*height) (default 0.04, at least 16 px)

check loads a dataset (format detected unless --format is given) and prints
records loaded, records skipped with reasons, question types and image sizes.
Exits 1 when no record loads.

  --json                 print one JSON object instead of text`;

function integer(flag: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined) throw new CliError(`--${flag} is required\n${USAGE}`);
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new CliError(`--${flag} must be an integer ${min}..${max}, got '${value}'`);
  return n;
}

/** 80/10/10, with every split non-empty once there are at least 3 records. */
export function splitCounts(n: number): { train: number; val: number; test: number } {
  const val = n >= 3 ? Math.max(1, Math.round(n * 0.1)) : 0;
  const test = n >= 3 ? Math.max(1, Math.round(n * 0.1)) : 0;
  return { train: n - val - test, val, test };
}

function parse(
  args: string[],
  options: ParseArgsConfig['options'],
  positionals: boolean,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const r = parseCommandArgs({ args, options, strict: true, allowPositionals: positionals }, USAGE);
  return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
}

async function synth(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      out: { type: 'string' },
      n: { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string', default: '2048' },
      convention: { type: 'string', default: 'qwen25-abs' },
      families: { type: 'string' },
      'target-scale': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    false,
  );
  const out = values.out as string | undefined;
  if (!out) throw new CliError(`--out is required\n${USAGE}`);
  const n = integer('n', values.n as string | undefined, 1, 10_000_000);
  const seed = integer('seed', values.seed as string | undefined, 0, 0xffffffff);
  const size = integer('size', values.size as string, 64, 4096);
  const convention = conventionFlag(values.convention as string, COORD_CONVENTIONS);
  let families: QuestionFamily[] | undefined;
  if (values.families !== undefined) {
    families = (values.families as string).split(',').map((f) => f.trim()) as QuestionFamily[];
    const bad = families.filter((f) => !(SYNTHETIC_FAMILIES as readonly string[]).includes(f));
    if (bad.length || families.length === 0)
      throw new CliError(`--families must list some of ${SYNTHETIC_FAMILIES.join(', ')}, got '${values.families as string}'`);
  }
  let targetScale: number | undefined;
  if (values['target-scale'] !== undefined) {
    targetScale = Number(values['target-scale']);
    if (!(targetScale > 0 && targetScale <= 0.2))
      throw new CliError(`--target-scale must be a number in (0, 0.2], got '${values['target-scale'] as string}'`);
  }
  const counts = splitCounts(n);
  const interactive = !values.json && process.stderr.isTTY;
  const start = performance.now();
  const r = await ensureSyntheticDataset(out, { seed, counts, size, convention, families, targetScale }, (done, total) => {
    if (interactive && (done % 25 === 0 || done === total)) process.stderr.write(`\rrendering ${done}/${total}`);
  });
  if (interactive) process.stderr.write('\n');
  const seconds = (performance.now() - start) / 1000;
  if (values.json) process.stdout.write(JSON.stringify({ dir: r.dir, counts, rendered: r.rendered, cached: r.cached, seconds }) + '\n');
  else
    process.stdout.write(
      `wrote ${out}: train ${counts.train}, val ${counts.val}, test ${counts.test}; rendered ${r.rendered}, cached ${r.cached} in ${seconds.toFixed(1)} s\n`,
    );
  return 0;
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { format: { type: 'string' }, split: { type: 'string' }, json: { type: 'boolean', default: false } },
    true,
  );
  if (positionals.length !== 1) throw new CliError(`expected one dataset path\n${USAGE}`);
  const format = values.format as string | undefined;
  if (format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(format)) {
    throw new CliError(`--format must be one of ${DATASET_FORMATS.join(', ')}, got '${format}'`);
  }
  let loaded;
  try {
    loaded = await loadDataset(positionals[0] as string, {
      format: format as DatasetFormat | undefined,
      split: values.split as string | undefined,
    });
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  }
  const summary = summarize(loaded);
  process.stdout.write((values.json ? JSON.stringify(summary) : formatSummary(summary)) + '\n');
  return summary.loaded > 0 ? 0 : 1;
}

export const dataCommand: Command = {
  summary: 'write the synthetic benchmark (synth) or load and summarise a dataset (check)',
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'synth') return synth(rest);
    if (sub === 'check') return check(rest);
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    throw new CliError(`${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`}; expected synth or check\n${USAGE}`);
  },
};
