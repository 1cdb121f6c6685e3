/**
 * How large would a grounded group have to be for the consistency term to get a reference?
 * Samples many grounded traces per training question from one checkpoint of a run (by default
 * checkpoint 0, the warm start), scores each as the trainer does, and reports the share of
 * correct traces, of traces whose boxes reach the high-quality IoU, of high-quality traces, and
 * the estimated chance that a group of size g holds at least one high-quality trace.
 *
 *   node --import tsx bench/learning/group-size.ts <run-dir> [--checkpoint 0] [--questions 32] [--n 64]
 *
 * Uses the run's own config (dataset, model, rewards, temperature, max tokens) and its training split
 * only, never the test split.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTrace } from '../../src/core/trace';
import { scoreGrounded } from '../../src/core/score';
import { readRunJson } from '../../src/run/run-dir';
import { engineStarter, openRunData } from '../../src/worker/run-inputs';
import { promptMessages } from '../../src/worker/prompts';
import { parseOptionsFor } from '../../src/core/trace';
import { rewardConfigOf } from '../../src/run/run-rewards';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    checkpoint: { type: 'string', default: '0' },
    questions: { type: 'string', default: '32' },
    n: { type: 'string', default: '64' },
    seed: { type: 'string', default: '11' },
  },
});
const runDir = positionals[0];
if (!runDir) {
  console.error('usage: group-size.ts <run-dir> [--checkpoint 0] [--questions 32] [--n 64]');
  process.exit(2);
}
const nQuestions = Number(values.questions);
const n = Number(values.n);

const run = readRunJson(runDir);
const config = run.config;
const data = await openRunData(run, config, () => undefined);
const { engine, info } = await engineStarter(config, data, { log: () => undefined })();
await engine.restore(join(runDir, 'checkpoints', values.checkpoint));
const rewards = rewardConfigOf(config);
const records = data.train.slice(0, nQuestions);

const t0 = performance.now();
const result = await engine.generate({
  prompts: records.map((r) => ({ id: r.id, images: [join(data.root, r.image)], messages: promptMessages('grounded', r) })),
  n,
  temperature: config.streams.grounded.temperature,
  maxTokens: config.maxTokens,
  seed: Number(values.seed),
  keep: false,
});
const seconds = (performance.now() - t0) / 1000;
await engine.shutdown();

const byId = new Map(records.map((r) => [r.id, r]));
const perQuestion = new Map<string, { correct: number; hit: number; hq: number; boxes: number; bestIoU: number }>();
for (const s of result.samples) {
  const record = byId.get(s.promptId)!;
  const score = scoreGrounded(parseTrace(s.text, parseOptionsFor(record, info)), record, rewards);
  const grounding = score.rewards.grounding?.value ?? 0;
  const q = perQuestion.get(s.promptId) ?? { correct: 0, hit: 0, hq: 0, boxes: 0, bestIoU: 0 };
  q.correct += score.correct ? 1 : 0;
  q.boxes += score.boxes.length > 0 ? 1 : 0;
  q.hit += grounding >= rewards.highQuality.minIoU ? 1 : 0;
  q.hq += score.highQuality ? 1 : 0;
  q.bestIoU = Math.max(q.bestIoU, grounding);
  perQuestion.set(s.promptId, q);
}

const total = result.samples.length;
const sum = (k: 'correct' | 'hit' | 'hq' | 'boxes') => [...perQuestion.values()].reduce((a, q) => a + q[k], 0);
const pct = (x: number) => `${((100 * x) / total).toFixed(2)}%`;
console.log(
  `run ${run.id}, checkpoint ${values.checkpoint}: ${records.length} training questions × ${n} grounded samples = ${total} traces (${seconds.toFixed(0)} s)`,
);
console.log(
  `traces citing a box: ${pct(sum('boxes'))}; correct: ${pct(sum('correct'))}; grounding ≥ ${rewards.highQuality.minIoU}: ${pct(sum('hit'))}; high quality (both): ${pct(sum('hq'))}`,
);
const best = [...perQuestion.values()].map((q) => q.bestIoU).sort((a, b) => b - a);
console.log(`best grounding reward per question: max ${best[0]?.toFixed(3)}, median ${best[Math.floor(best.length / 2)]?.toFixed(3)}`);
// Chance that a group of g samples of a question holds a reference, from each question's observed rate.
for (const g of [4, 8, 16, 32, 64]) {
  const p = [...perQuestion.values()].reduce((a, q) => a + (1 - (1 - q.hq / n) ** g), 0) / perQuestion.size;
  console.log(`group size ${String(g).padStart(2)}: P(at least one high-quality grounded trace) ≈ ${(100 * p).toFixed(2)}%`);
}
