/**
 * `ivgr score --jsonl`: a long-lived scorer for other trainers (the TRL recipe in python/ivgr_trl).
 * Each stdin line is one request, answered by one stdout line in the same order:
 *
 *   {"record": {...}, "convention": "...", "rewards": {...}, "stream": "grounded"|"textual", "trace": "...", "references": ["..."]}
 *     -> the single-trace answer of `ivgr score`
 *   {"record": {...}, "convention": "...", "rewards": {...}, "grounded": ["..."], "textual": ["..."]}
 *     -> {"grounded": [...], "textual": [...]}: the question scored as the trainer scores a step
 *
 * A bad line is answered with {"error": "line N: ..."} and the scorer goes on.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { COORD_CONVENTIONS, type CoordConvention, type Stream } from '../../core/types';
import { recordFrom, rewardConfigFrom, scoreGroups, scoreTrace } from './score-trace';

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected an array of trace texts`);
  value.forEach((v, i) => {
    if (typeof v !== 'string') throw new Error(`${where}[${i}]: expected a trace text (string), got ${typeof v}`);
  });
  return value as string[];
}

/** Answers one request line; throws naming the field that is wrong. */
export function answerRequest(line: string, where: string): unknown {
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch (err) {
    throw new Error(`${where}: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new Error(`${where}: expected a JSON object`);
  const r = req as Record<string, unknown>;
  const record = recordFrom(r.record, `${where}: record`);
  const convention = (r.convention ?? 'qwen25-abs') as CoordConvention;
  if (!COORD_CONVENTIONS.includes(convention))
    throw new Error(`${where}: field "convention": expected one of ${COORD_CONVENTIONS.join(', ')}, got ${JSON.stringify(r.convention)}`);
  const config = rewardConfigFrom(r.rewards, `${where}: field "rewards"`);
  if ('grounded' in r || 'textual' in r) {
    return scoreGroups({
      record,
      convention,
      config,
      grounded: strings(r.grounded ?? [], `${where}: field "grounded"`),
      textual: strings(r.textual ?? [], `${where}: field "textual"`),
    });
  }
  const stream = (r.stream ?? 'grounded') as Stream;
  if (stream !== 'grounded' && stream !== 'textual')
    throw new Error(`${where}: field "stream": expected grounded or textual, got ${JSON.stringify(r.stream)}`);
  if (typeof r.trace !== 'string') throw new Error(`${where}: field "trace": expected the model output (a string)`);
  const references = r.references === undefined ? [] : strings(r.references, `${where}: field "references"`);
  if (references.length > 0 && stream !== 'textual') throw new Error(`${where}: field "references" applies to the textual stream only`);
  return scoreTrace({ record, stream, convention, text: r.trace, references, config });
}

/** Reads requests until stdin ends; every non-empty line gets exactly one answer line. */
export async function scoreJsonLines(input: Readable, output: Writable): Promise<number> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim().length === 0) continue;
    let answer: unknown;
    try {
      answer = answerRequest(line, `line ${n}`);
    } catch (err) {
      answer = { error: (err as Error).message };
    }
    if (!output.write(JSON.stringify(answer) + '\n')) await new Promise((resolve) => output.once('drain', resolve));
  }
  return 0;
}
