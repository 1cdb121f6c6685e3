/** `ivgr score`: the iVGR reward breakdown of one trace against one dataset record, as JSON. */
import { readFileSync } from 'node:fs';
import { conventionFlag, parseCommandArgs, printedHelp } from '../args';
import { CliError, type Command } from '../cli-error';
import { DEFAULT_REWARD_CONFIG, parseWeightSpec, validateRewardConfig, type ConsistencyReference, type RewardConfig } from '../../core/rewards';
import { scoreGrounded, scoreTextual } from '../../core/score';
import { parseRecordInput, withImageSize } from '../../data/record-schema';
import { parseTrace } from '../../core/trace';
import type { CoordConvention, DatasetRecord, ParseOptions, Stream } from '../../core/types';

const USAGE = `usage: ivgr score --trace <file|-> --record <record.json> [options]

Scores one model output with the iVGR reward terms and prints each term's
value, weight and explanation and the weighted total as JSON.

  --trace <file|->        the model output ("-" reads stdin)
  --record <file>         a dataset record (JSON): answer, options, evidence boxes, image size
  --stream <s>            grounded (default) or textual
  --convention <c>        coordinates in the trace: qwen25-abs (default), qwen2-1000, relative, pixels
  --references <file>     textual stream: JSON array of grounded trace texts of the same question;
                          the high-quality ones are the consistency references
  --weights <spec>        e.g. accuracy=1,format=0.5,grounding=0.5,consistency=0,tool=0`;

const CONVENTIONS: readonly CoordConvention[] = ['qwen25-abs', 'qwen2-1000', 'relative', 'pixels'];

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
  const input = parseRecordInput(readJson(path, 'record'));
  if (!input.ok) throw new CliError(`record '${path}': ${input.reason}`, 1);
  const { width, height } = input.record;
  // The image is not opened here, so the record must state its size.
  if (width === undefined || height === undefined) {
    throw new CliError(`record '${path}': field "${width === undefined ? 'width' : 'height'}": expected the image size in pixels, got nothing`, 1);
  }
  const record = withImageSize(input.record, { width, height });
  if (!record.ok) throw new CliError(`record '${path}': ${record.reason}`, 1);
  return record.record;
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
          help: { type: 'boolean', short: 'h' },
        },
      },
      USAGE,
    );
    if (printedHelp(values.help, USAGE)) return 0;
    if (values.trace === undefined) throw new CliError(`--trace is required\n${USAGE}`);
    if (values.record === undefined) throw new CliError(`--record is required\n${USAGE}`);
    const stream = values.stream as Stream;
    if (stream !== 'grounded' && stream !== 'textual') throw new CliError(`--stream must be grounded or textual, got '${values.stream}'`);
    const convention = conventionFlag(values.convention, CONVENTIONS);
    if (values.references !== undefined && stream !== 'textual') throw new CliError('--references applies to --stream textual only');
    const config = rewardConfig(values.weights);

    const record = readRecord(values.record);
    const text = readText(values.trace, 'trace');
    const parseOpts: ParseOptions = { convention, original: { width: record.width, height: record.height } };
    const parse = parseTrace(text, parseOpts);

    let referenceReport: Array<{ index: number; highQuality: boolean; correct: boolean; grounding: number }> | undefined;
    let result;
    if (stream === 'grounded') {
      result = scoreGrounded(parse, record, config);
    } else {
      const refs: ConsistencyReference[] = [];
      referenceReport = [];
      const texts = values.references !== undefined ? readReferences(values.references) : [];
      texts.forEach((refText, index) => {
        const g = scoreGrounded(parseTrace(refText, parseOpts), record, config);
        referenceReport?.push({ index, highQuality: g.highQuality === true, correct: g.correct, grounding: g.rewards.grounding?.value ?? 0 });
        if (g.highQuality) refs.push({ id: `reference-${index}`, answer: g.answer, boxes: g.boxes });
      });
      result = scoreTextual(parse, text, record, refs, config);
    }
    const out = {
      record: record.id,
      stream,
      convention,
      answer: result.answer,
      correct: result.correct,
      boxes: result.boxes,
      toolCalls: parse.toolCalls.map((t) => ({ name: t.name, box: t.box })),
      problems: parse.problems.map((p) => ({ code: p.code, message: p.message })),
      terms: result.rewards,
      total: result.total,
      ...(stream === 'grounded' ? { highQuality: result.highQuality === true } : { references: referenceReport }),
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  },
};
