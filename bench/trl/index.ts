// TRL's GRPOTrainer against this product's engine on the same tiny config, side by side in one
// process: the built-in tiny model on CPU, one run per trainer, steps per second from the
// metrics lines' times (step 1 to the last, so loading and the first step's warm-up are left out).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAll } from '../../src/run/jsonl-reader';
import type { MetricsRecord } from '../../src/core/types';

const STEPS = Number(process.env.IVGR_BENCH_STEPS ?? 6);
const dir = mkdtempSync(join(tmpdir(), 'ivgr-bench-trl-'));

function configFile(trainer: 'ivgr' | 'trl'): string {
  const file = join(dir, `${trainer}.yaml`);
  writeFileSync(
    file,
    [
      `name: bench-${trainer}`,
      'model: builtin:tiny',
      'dataset: { path: data }',
      'synthetic: { seed: 7, counts: { train: 32, val: 4, test: 4 }, size: 112 }',
      'streams: { grounded: { groupSize: 4 }, textual: { groupSize: 4 } }',
      'batchSize: 2',
      'maxTokens: 32',
      `steps: ${STEPS}`,
      'checkpointEvery: 0',
      `trainer: ${trainer}`,
    ].join('\n') + '\n',
  );
  return file;
}

async function stepsPerSecond(trainer: 'ivgr' | 'trl'): Promise<{ rate: number; wall: number }> {
  const start = Date.now();
  const r = spawnSync(
    process.execPath,
    [join('dist', 'cli.js'), 'train', configFile(trainer), '--runs-dir', join(dir, 'runs'), '--run-id', trainer],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`${trainer} run failed:\n${r.stderr}`);
  const metrics = (await readAll<MetricsRecord>(join(dir, 'runs', trainer, 'events', 'metrics.jsonl'))).records;
  const first = metrics[0]!;
  const last = metrics.at(-1)!;
  return { rate: (last.step - first.step) / ((last.time - first.time) / 1000), wall: (Date.now() - start) / 1000 };
}

const ours = await stepsPerSecond('ivgr');
const trl = await stepsPerSecond('trl');
console.log(`tiny model, CPU, ${STEPS} steps of 2 questions × 2 streams × 4 samples, 32 tokens`);
console.log(`ivgr engine  ${ours.rate.toFixed(3)} steps/s  (run wall ${ours.wall.toFixed(1)} s)`);
console.log(`TRL          ${trl.rate.toFixed(3)} steps/s  (run wall ${trl.wall.toFixed(1)} s)`);
console.log(`TRL / ivgr   ${(trl.rate / ours.rate).toFixed(2)}×`);
