/**
 * Records the run the panel's recorded-run tests open (test/webview/fixtures/recorded-run/): the
 * project's own worker (`ivgr train`, then `ivgr eval`) trains the built-in tiny PyTorch model on a
 * small synthetic dataset — a short warm start, then RL steps with both streams — and evaluates
 * the last checkpoint in the textual, grounded and tool modes. The run folder is then copied
 * without the weights: run.json, events/*.jsonl, eval-summary.json, each checkpoint's
 * worker-state.json and any zoom crops; the dataset keeps its manifest and only the questions and
 * images the events name. Paths in run.json are made relative so the fixture opens from any
 * checkout. Re-record (after a record schema change, say) with:
 *
 *   node --import tsx test/webview/harness/record-fixture.ts
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { evalCommand } from '../../../src/cli/commands/eval';
import { trainCommand } from '../../../src/cli/commands/train';
import type { DatasetRecord, EvalRecord, RolloutRecord } from '../../../src/core/types';
import { RECORDED_RUN } from './recorded';

const STEPS = 4;
const EVAL_QUESTIONS = 3;
const config = {
  name: 'recorded',
  model: 'builtin:tiny',
  dataset: { path: 'data' },
  synthetic: { seed: 7, counts: { train: 8, val: EVAL_QUESTIONS, test: 1 }, size: 160 },
  splits: { train: 'train', eval: 'val' },
  streams: { grounded: { groupSize: 2, temperature: 1.0 }, textual: { groupSize: 2, temperature: 1.0 } },
  batchSize: 2,
  learningRate: 1.0e-4,
  maxTokens: 64,
  steps: STEPS,
  checkpointEvery: 2,
  seed: 1,
  sft: { steps: 60, batchSize: 8, learningRate: 2.0e-3 },
};

function jsonl<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

const work = mkdtempSync(join(tmpdir(), 'ivgr-record-run-'));
process.env.IVGR_THREADS ??= '2';
try {
  const configFile = join(work, 'recorded.yaml');
  writeFileSync(configFile, stringify(config));
  const runDir = join(work, 'runs', 'recorded');
  if ((await trainCommand.run([configFile, '--runs-dir', join(work, 'runs'), '--run-id', 'recorded'])) !== 0)
    throw new Error('ivgr train failed');
  if ((await evalCommand.run([runDir, '--split', 'val', '--limit', String(EVAL_QUESTIONS)])) !== 0) throw new Error('ivgr eval failed');

  const out = RECORDED_RUN;
  rmSync(out.root, { recursive: true, force: true });
  mkdirSync(join(out.runDir, 'events'), { recursive: true });
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as Record<string, unknown> & {
    config: Record<string, unknown>;
    given: Record<string, unknown>;
  };
  // Without a config file, readers resolve the dataset path against the run folder.
  delete run.configFile;
  run.config.dataset = { path: '../dataset' };
  run.given.dataset = { path: '../dataset' };
  writeFileSync(join(out.runDir, 'run.json'), JSON.stringify(run, null, 2) + '\n');
  for (const f of ['rollouts', 'metrics', 'eval'])
    copyFileSync(join(runDir, 'events', `${f}.jsonl`), join(out.runDir, 'events', `${f}.jsonl`));
  copyFileSync(join(runDir, 'eval-summary.json'), join(out.runDir, 'eval-summary.json'));
  for (const step of readdirSync(join(runDir, 'checkpoints'))) {
    const state = join(runDir, 'checkpoints', step, 'worker-state.json');
    if (!existsSync(state)) continue;
    mkdirSync(join(out.runDir, 'checkpoints', step), { recursive: true });
    copyFileSync(state, join(out.runDir, 'checkpoints', step, 'worker-state.json'));
  }
  const crops = join(runDir, 'eval-crops');
  if (existsSync(crops)) {
    mkdirSync(join(out.runDir, 'eval-crops'), { recursive: true });
    for (const f of readdirSync(crops)) copyFileSync(join(crops, f), join(out.runDir, 'eval-crops', f));
  }

  const rollouts = jsonl<RolloutRecord>(join(runDir, 'events', 'rollouts.jsonl'));
  const evals = jsonl<EvalRecord>(join(runDir, 'events', 'eval.jsonl'));
  const used = new Set([...rollouts, ...evals].map((r) => r.promptId));
  const data = join(work, 'data');
  mkdirSync(out.datasetDir, { recursive: true });
  copyFileSync(join(data, 'manifest.json'), join(out.datasetDir, 'manifest.json'));
  for (const split of ['train', 'val', 'test']) {
    const kept = jsonl<DatasetRecord>(join(data, `${split}.jsonl`)).filter((r) => used.has(r.id));
    writeFileSync(join(out.datasetDir, `${split}.jsonl`), kept.map((r) => JSON.stringify(r) + '\n').join(''));
    for (const r of kept) {
      mkdirSync(dirname(join(out.datasetDir, r.image)), { recursive: true });
      copyFileSync(join(data, r.image), join(out.datasetDir, r.image));
    }
  }
  const boxed = rollouts.filter((r) => r.stream === 'grounded' && r.boxes.length > 0).length;
  process.stderr.write(
    `recorded ${rollouts.length} rollouts (${boxed} grounded with boxes), ${evals.length} evaluation samples, ${used.size} questions into ${out.root}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
