/**
 * Trace parser worst cases: time per megabyte of inputs built to defeat a
 * naive parser (runs of unclosed tags, `{"` runs, tag soup). A linear parser
 * keeps ms/MB flat as the input grows 10x and 100x.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseTrace } from '../../src/core/trace';
import type { ParseOptions } from '../../src/core/types';

const opts: ParseOptions = { convention: 'qwen2-1000', original: { width: 1000, height: 1000 } };

const inputs: Record<string, (chars: number) => string> = {
  prose: (n) => 'the red sign is left of the car. '.repeat(n / 33),
  citedBoxes: (n) => 'the sign <box>[100,200,300,400]</box> '.repeat(n / 38),
  jsonBoxes: (n) => '{"bbox_2d": [10, 20, 30, 40], "label": "cup"}, '.repeat(n / 47),
  unclosedBoxes: (n) => '<box>'.repeat(n / 5),
  braceQuoteRun: (n) => '{"'.repeat(n / 2),
  unclosedJson: (n) => '{"bbox_2d": [1, 2'.repeat(n / 17),
  tagSoup: (n) => '<think><answer></think></answer>'.repeat(n / 32),
  lessThanRun: (n) => '<'.repeat(n),
};

/** Best of 5 timed runs after a warm-up, in ms. */
function best(text: string): number {
  parseTrace(text, opts);
  let ms = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    parseTrace(text, opts);
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

const sizes = [10_000, 100_000, 1_000_000];
const msPerMB: Record<string, number[]> = {};
for (const [name, make] of Object.entries(inputs)) {
  msPerMB[name] = sizes.map((n) => {
    const text = make(n);
    return Number(((best(text) / text.length) * 1e6).toFixed(1));
  });
}
const worstGrowth = Math.max(...Object.values(msPerMB).map((v) => v[2]! / Math.max(v[0]!, 0.1)));
console.log(
  JSON.stringify(
    {
      machine: `${cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'unknown'}, Node ${process.version}`,
      date: new Date().toISOString().slice(0, 10),
      sizesChars: sizes,
      msPerMB,
      worstGrowth100x: Number(worstGrowth.toFixed(2)),
    },
    null,
    2,
  ),
);
