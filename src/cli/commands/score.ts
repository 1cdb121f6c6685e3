/** `ivgr score`: the iVGR reward breakdown of one trace against one dataset record, as JSON. */
import { readFileSync } from 'node:fs';
import { conventionFlag, parseCommandArgs, printedHelp } from '../args';
import { CliError, type Command } from '../cli-error';
import { DEFAULT_REWARD_CONFIG, parseWeightSpec, validateRewardConfig, type RewardConfig } from '../../core/rewards';
import { COORD_CONVENTIONS, type DatasetRecord, type Stream } from '../../core/types';
import { scoreJsonLines } from './score-jsonl';
import { recordFrom, scoreTrace } from './score-trace';

const USAGE = `usage: ivgr score --trace <file|-> --record <record.json> [options]

Scores one model output with the iVGR reward terms and prints each term's
value, weight and explanation and the weighted total as JSON.

  --trace <file|->        the model output ("-" reads stdin)
  --record <file>         a dataset record (JSON): answer, options, evidence boxes, image size
  --stream <s>            grounded (default) or textual
  --convention <c>        coordinates in the trace: qwen25-abs (default), qwen2-1000, relative, pixels
  --references <file>     textual stream: JSON array of grounded trace texts of the same question;
                          the high-quality ones are the consistency references
  --weights <spec>        e.g. accuracy=1,format=0.5,grounding=0.5,consistency=0,tool=0
  --jsonl                 batch mode: one JSON request per stdin line, one JSON answer per stdout line
                          (a trace as above, or a question's two stream groups; see docs/TRL.md)`;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path === '-' ? 'from stdin' : `'${path}'`}: ${(err as Error).message}`, 1);
  }
}

function readJson(path: string, what: string): unknown {
  const text = readText(path, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${what} '${path}' is not valid JSON: ${(err as Error).message}`, 1);
  }
}

function readRecord(path: string): DatasetRecord {
  try {
    return recordFrom(readJson(path, 'record'), `record '${path}'`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message, 1);
  }
}

function readReferences(path: string): string[] {
  const value = readJson(path, 'references');
  if (!Array.isArray(value)) throw new CliError(`references '${path}': expected a JSON array of grounded trace texts`, 1);
  value.forEach((v, i) => {
    if (typeof v !== 'string') throw new CliError(`references '${path}': item ${i} is ${typeof v}, expected a trace text (string)`, 1);
  });
  return value as string[];
}

function rewardConfig(spec: string | undefined): RewardConfig {
  if (spec === undefined) return DEFAULT_REWARD_CONFIG;
  try {
    return validateRewardConfig({ ...DEFAULT_REWARD_CONFIG, weights: { ...DEFAULT_REWARD_CONFIG.weights, ...parseWeightSpec(spec) } });
  } catch (err) {
    throw new CliError(`--weights: ${(err as Error).message}`);
  }
}

export const scoreCommand: Command = {
  summary: 'score one trace against a dataset record with the iVGR reward terms',
  async run(args) {
    const { values } = parseCommandArgs(
      {
        args,
        strict: true,
        allowPositionals: false,
        options: {
          trace: { type: 'string' },
          record: { type: 'string' },
          stream: { type: 'string', default: 'grounded' },
          convention: { type: 'string', default: 'qwen25-abs' },
          references: { type: 'string' },
          weights: { type: 'string' },
          jsonl: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h' },
        },
      },
      USAGE,
    );
    if (printedHelp(values.help, USAGE)) return 0;
    if (values.jsonl) {
      if (values.trace !== undefined || values.record !== undefined || values.references !== undefined)
        throw new CliError('--jsonl reads every request from stdin; drop --trace, --record and --references');
      return scoreJsonLines(process.stdin, process.stdout);
    }
    if (values.trace === undefined) throw new CliError(`--trace is required\n${USAGE}`);
    if (values.record === undefined) throw new CliError(`--record is required\n${USAGE}`);
    const stream = values.stream as Stream;
    if (stream !== 'grounded' && stream !== 'textual') throw new CliError(`--stream must be grounded or textual, got '${values.stream}'`);
    const convention = conventionFlag(values.convention, COORD_CONVENTIONS);
    if (values.references !== undefined && stream !== 'textual') throw new CliError('--references applies to --stream textual only');
    const config = rewardConfig(values.weights);

    const record = readRecord(values.record);
    const text = readText(values.trace, 'trace');
    const references = stream === 'textual' && values.references !== undefined ? readReferences(values.references) : [];
    const out = scoreTrace({ record, stream, convention, text, references, config });
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  },
};
