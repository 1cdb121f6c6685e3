/**
 * Core benchmark: parse + score throughput of realistic 300–2000 token traces
 * on one core (Node is single-threaded here; nothing runs in parallel).
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DEFAULT_ADVANTAGE_OPTIONS } from '../../src/core/advantages';
import { smartResize } from '../../src/core/boxes';
import { findRegionPhrases } from '../../src/core/regions';
import { DEFAULT_REWARD_CONFIG, type ConsistencyReference } from '../../src/core/rewards';
import { scoreGrounded, scoreQuestion, scoreTextual } from '../../src/core/score';
import { parseTrace } from '../../src/core/trace';
import type { DatasetRecord, ParseOptions, ParseResult } from '../../src/core/types';
import { benchRecord, benchTrace, prng, type BenchTrace } from './traces';

const QUESTIONS = 400;
const GROUP = 4;
const TARGET = 20_000;

interface Question {
  record: DatasetRecord;
  opts: ParseOptions;
  grounded: BenchTrace[];
  textual: BenchTrace[];
}

const rand = prng(20260529);
const questions: Question[] = [];
for (let q = 0; q < QUESTIONS; q++) {
  const record = benchRecord(rand);
  const original = { width: record.width, height: record.height };
  const resized = smartResize(original);
  const opts: ParseOptions = { convention: 'qwen25-abs', original, resized };
  const tokens = (): number => 300 + Math.floor(rand() * 1700);
  questions.push({
    record,
    opts,
    grounded: Array.from({ length: GROUP }, () => benchTrace(rand, record, 'grounded', tokens(), resized)),
    textual: Array.from({ length: GROUP }, () => benchTrace(rand, record, 'textual', tokens(), resized)),
  });
}
const all = questions.flatMap((q) => [...q.grounded, ...q.textual].map((t) => ({ q, t })));
const meanTokens = all.reduce((s, x) => s + x.t.tokens, 0) / all.length;
const meanChars = all.reduce((s, x) => s + x.t.text.length, 0) / all.length;

/** Best of `rounds` timed passes after one warm-up pass; returns seconds per pass. */
function time(rounds: number, pass: () => void): number {
  pass();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    pass();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

let sink = 0;
const parseSec = time(5, () => {
  for (const { q, t } of all) sink += parseTrace(t.text, q.opts).boxes.length;
});

const parsed = all.map(({ q, t }) => ({ q, t, parse: parseTrace(t.text, q.opts) }));
const refs = new Map<Question, ConsistencyReference[]>();
for (const { q, t, parse } of parsed) {
  if (t.stream !== 'grounded') continue;
  const list = refs.get(q) ?? [];
  list.push({ id: String(list.length), answer: parse.answerText, boxes: parse.boxes });
  refs.set(q, list);
}
const scoreSec = time(5, () => {
  for (const { q, t, parse } of parsed) {
    const s =
      t.stream === 'grounded'
        ? scoreGrounded(parse, q.record, DEFAULT_REWARD_CONFIG)
        : scoreTextual(parse, t.text, q.record, refs.get(q) ?? [], DEFAULT_REWARD_CONFIG);
    sink += s.total;
  }
});
const phrasesSec = time(5, () => {
  for (const { t, parse } of parsed) if (t.stream === 'textual') sink += findRegionPhrases((parse as ParseResult).think ?? '').length;
});

const endToEndSec = time(5, () => {
  for (const q of questions) {
    const out = scoreQuestion(
      q.record,
      q.grounded.map((t, i) => ({ rolloutId: `g${i}`, text: t.text })),
      q.textual.map((t, i) => ({ rolloutId: `t${i}`, text: t.text })),
      DEFAULT_REWARD_CONFIG,
      q.opts,
      DEFAULT_ADVANTAGE_OPTIONS,
    );
    sink += out.length;
  }
});

const n = all.length;
const perSec = (sec: number, count = n): number => Math.round(count / sec);
const textualCount = all.filter((x) => x.t.stream === 'textual').length;
const result = {
  machine: `${cpus()[0]?.model ?? 'unknown cpu'}, Node ${process.version}`,
  date: new Date().toISOString().slice(0, 10),
  traces: n,
  meanTokens: Math.round(meanTokens),
  meanChars: Math.round(meanChars),
  parseTracesPerSec: perSec(parseSec),
  parseMBPerSec: Math.round(((meanChars * n) / parseSec / 1e6) * 10) / 10,
  scoreTracesPerSec: perSec(scoreSec),
  regionPhrasesTextualPerSec: perSec(phrasesSec, textualCount),
  endToEndTracesPerSec: perSec(endToEndSec),
  targetTracesPerSec: TARGET,
  meetsTarget: perSec(endToEndSec) >= TARGET,
};
console.log(JSON.stringify(result, null, 2));
if (sink === -1) console.log(sink);
