/**
 * The training loop on the real PyTorch engine with the built-in tiny model:
 * resume determinism (from an RL checkpoint and from inside the warm start) and
 * crash recovery. Needs the project's Python
 * environment (npm run demo / scripts/setup-python.mjs creates it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsRecord, RolloutRecord } from '../../src/core/types';
import { runConfigSchema } from '../../src/run/config-schema';
import { createRunDir, readRunJson } from '../../src/run/run-dir';
import { readAll } from '../../src/run/jsonl-reader';
import { EventSink } from '../../src/worker/event-sink';
import { Trainer, type TrainerHooks } from '../../src/worker/trainer';
import { engineStarter, openRunData } from '../../src/worker/run-inputs';
import type { TorchEngine } from '../../src/engine/torch';
import { scratch } from './fixtures/scratch';

const { root } = scratch('ivgr-torch-');
const config = runConfigSchema.parse({
  dataset: { path: join(root, 'data') },
  synthetic: { seed: 3, counts: { train: 12, val: 4, test: 4 }, size: 448 },
  batchSize: 2,
  streams: { grounded: { groupSize: 2 }, textual: { groupSize: 2 } },
  maxTokens: 24,
  steps: 3,
  checkpointEvery: 2,
  sft: { steps: 2, batchSize: 4 },
  maxRestarts: 1,
});

async function trainer(dir: string, hooks: Partial<TrainerHooks> = {}, logs: string[] = []) {
  const run = readRunJson(dir);
  const data = await openRunData(run, config, () => {});
  const events = new EventSink(dir);
  const t = new Trainer(dir, config, data.train, data.root, engineStarter(config, data, { log: () => {} }), events, {
    log: (_level, text) => logs.push(text),
    progress: () => {},
    boundary: async () => 'continue',
    ...hooks,
  });
  return { t, events };
}

function newRun(name: string): string {
  const dir = join(root, 'runs', name);
  createRunDir(dir, { id: name, given: {}, config, engine: 'torch' });
  return dir;
}

/** The uninterrupted run both resume tests compare against, trained once on first use. */
let uninterrupted: Promise<string> | undefined;
function uninterruptedRun(): Promise<string> {
  uninterrupted ??= (async () => {
    const dir = newRun('a');
    const r = await trainer(dir);
    await r.t.open();
    assert.equal(await r.t.run(), 'finished');
    r.events.close();
    await r.t.shutdown();
    return dir;
  })();
  return uninterrupted;
}

const step3 = async (dir: string) =>
  (await readAll<RolloutRecord>(join(dir, 'events', 'rollouts.jsonl'))).records
    .filter((r) => r.step === 3)
    .map((r) => ({ stream: r.stream, promptId: r.promptId, output: r.output, score: r.score, advantage: r.advantage }));

test('a run resumed from checkpoint 2 produces the same step 3 as the uninterrupted run', { timeout: 300_000 }, async () => {
  const a = await uninterruptedRun();

  const b = newRun('b');
  cpSync(join(a, 'checkpoints', '2'), join(b, 'checkpoints', '2'), { recursive: true });
  const rb = await trainer(b);
  await rb.t.open();
  assert.equal(rb.t.step, 2);
  assert.equal(await rb.t.run(), 'finished');
  rb.events.close();
  await rb.t.shutdown();

  const expected = await step3(a);
  assert.equal(expected.length, 2 * (2 + 2));
  assert.deepEqual(await step3(b), expected);
});

test(
  'a run stopped inside the warm start and resumed produces the same rollouts as the uninterrupted run',
  { timeout: 300_000 },
  async () => {
    const a = await uninterruptedRun();

    const b = newRun('sft-b');
    const holder: { t?: Trainer } = {};
    const first = await trainer(b, { boundary: async (phase) => (phase === 'sft' && holder.t!.warmStartDone === 1 ? 'stop' : 'continue') });
    holder.t = first.t;
    await first.t.open();
    assert.equal(await first.t.run(), 'stopped');
    await first.t.checkpointOnce();
    first.events.close();
    await first.t.shutdown();
    const second = await trainer(b);
    await second.t.open();
    assert.equal(second.t.warmStartDone, 1);
    assert.equal(await second.t.run(), 'finished');
    second.events.close();
    await second.t.shutdown();

    const all = async (dir: string) =>
      (await readAll<RolloutRecord>(join(dir, 'events', 'rollouts.jsonl'))).records.map((r) => ({
        step: r.step,
        stream: r.stream,
        output: r.output,
        score: r.score,
        advantage: r.advantage,
      }));
    const expected = await all(a);
    assert.equal(expected.length, 3 * 2 * (2 + 2));
    assert.deepEqual(await all(b), expected);
  },
);

test('killing the engine process mid-run restarts it from the last checkpoint and the run finishes', { timeout: 300_000 }, async () => {
  const dir = newRun('crash');
  const logs: string[] = [];
  const holder: { t?: Trainer } = {};
  let killed = 0;
  const r = await trainer(
    dir,
    {
      boundary: async () => {
        const t = holder.t!;
        if (t.step === 1 && killed === 0) {
          killed = (t.currentEngine as TorchEngine).pid ?? 0;
          process.kill(killed, 'SIGKILL');
        }
        return 'continue';
      },
    },
    logs,
  );
  holder.t = r.t;
  await r.t.open();
  // The rollout file appears with the first rollout; none may exist before the first step.
  const rolloutFile = join(dir, 'events', 'rollouts.jsonl');
  const before = existsSync(rolloutFile) ? (await readAll<RolloutRecord>(rolloutFile)).records.length : 0;
  assert.equal(await r.t.run(), 'finished');
  r.events.close();
  await r.t.shutdown();
  assert.ok(killed > 0);
  assert.ok(
    logs.some((l) => /engine failed at step 2/.test(l)),
    logs.join('\n'),
  );
  assert.ok(
    logs.some((l) => /engine restarted \(1\/1\); continuing from checkpoint 0/.test(l)),
    logs.join('\n'),
  );
  const metrics = (await readAll<MetricsRecord>(join(dir, 'events', 'metrics.jsonl'))).records;
  // Step 1 was written before the crash and stays; it is trained again from checkpoint 0.
  assert.deepEqual(
    metrics.map((m) => m.step),
    [1, 1, 2, 3],
  );
  assert.equal(before, 0);
});
