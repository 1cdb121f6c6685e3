/**
 * The training loop against a scripted engine double (deterministic text from
 * the sampling seed, a weights "version" that save/restore carry). The real
 * torch engine runs in worker-torch.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetRecord } from '../../src/core/types';
import type { Engine, GenerateRequest, ModelInfo, SftRequest } from '../../src/engine/engine';
import { Trainer, type TrainerHooks } from '../../src/worker/trainer';
import { EventSink } from '../../src/worker/event-sink';
import { runConfigSchema, type RunConfigInput } from '../../src/run/config-schema';
import { createRunDir } from '../../src/run/run-dir';
import { listCheckpoints } from '../../src/run/checkpoints';
import { readAll } from '../../src/run/jsonl-reader';
import type { RolloutRecord, MetricsRecord } from '../../src/core/types';
import { scratch } from './fixtures/scratch';

const { root: work } = scratch('ivgr-loop-');

const INFO: ModelInfo = { architecture: 'scripted', parameters: 1, imageSize: 0, coordConvention: 'pixels', device: 'cpu' };

/** Deterministic stand-in: the output depends on (seed, prompt, sample, version); update bumps the version. */
class ScriptedEngine implements Engine {
  readonly kind = 'torch' as const;
  version = 0;
  updates = 0;
  failGenerateAt: number | null = null;
  calls = 0;
  failSftAt: number | null = null;
  sftCalls = 0;
  /** The questions of each SFT batch, in order. */
  sftBatches: string[][] = [];
  async load(): Promise<ModelInfo> {
    return INFO;
  }
  async generate(req: GenerateRequest) {
    this.calls += 1;
    if (this.failGenerateAt === this.calls) throw new Error('engine process exited (signal SIGKILL)');
    const samples = req.prompts.flatMap((p) =>
      Array.from({ length: req.n }, (_, i) => {
        const h = (req.seed * 31 + i * 7 + this.version * 13 + p.id.length) % 4;
        const grounded = p.messages.some((m) => m.text.includes('<box>'));
        const letter = 'ABCD'[h]!;
        const text = grounded
          ? `<think>the red mark <box>[10,10,40,40]</box>.</think><answer>${letter}</answer>`
          : `<think>near the top-left corner.</think><answer>${letter}</answer>`;
        return { rolloutId: `${p.id}#${i}`, promptId: p.id, text, promptTokens: 5, completionTokens: 12, finish: 'stop' as const };
      }),
    );
    return { samples, seconds: 0.01 };
  }
  async continue(): Promise<never> {
    throw new Error('not used');
  }
  async update() {
    this.updates += 1;
    this.version += 1;
    return { loss: 0.1, kl: 0, clipFraction: 0, gradNorm: 1, seconds: 0 };
  }
  async sftStep(req: SftRequest) {
    this.sftCalls += 1;
    if (this.failSftAt === this.sftCalls) throw new Error('engine process exited (signal SIGKILL)');
    this.sftBatches.push(req.examples.map((e) => e.messages.at(-1)!.text));
    this.version += 1;
    return { loss: 1, seconds: 0 };
  }
  async logprobs() {
    return { items: [] };
  }
  async save(dir: string, step: number) {
    writeFileSync(join(dir, 'engine.json'), JSON.stringify({ version: this.version, step }));
  }
  async restore(dir: string) {
    const s = JSON.parse(readFileSync(join(dir, 'engine.json'), 'utf8')) as { version: number; step: number };
    this.version = s.version;
    return { step: s.step };
  }
  async release() {}
  async shutdown() {}
}

const records: DatasetRecord[] = Array.from({ length: 6 }, (_, i) => ({
  id: `q${i}`,
  image: `img${i}.png`,
  width: 100,
  height: 100,
  question: `What colour is mark ${i}?`,
  options: ['red', 'blue', 'green', 'white'],
  answer: 'ABCD'[i % 4]!,
  evidence: [[10, 10, 40, 40]],
  reference: { textual: '<think>x</think><answer>A</answer>', grounded: '<think>x <box>[10,10,40,40]</box></think><answer>A</answer>' },
}));

function setup(overrides: RunConfigInput = {}) {
  const dir = mkdtempSync(join(work, 'loop-'));
  const config = runConfigSchema.parse({
    steps: 4,
    batchSize: 2,
    checkpointEvery: 2,
    sft: { steps: 2 },
    streams: { grounded: { groupSize: 3 }, textual: { groupSize: 2 } },
    ...overrides,
  });
  createRunDir(dir, { id: 'r', given: {}, config, engine: 'torch' });
  const engines: ScriptedEngine[] = [];
  const logs: string[] = [];
  const make = (stopAt?: number, stopAtSft?: number) => {
    const events = new EventSink(dir);
    const ref: { t?: Trainer } = {};
    const hooks: TrainerHooks = {
      log: (_l, text) => logs.push(text),
      progress: () => {},
      boundary: async (phase) => {
        if (phase === 'sft') return stopAtSft !== undefined && ref.t!.warmStartDone === stopAtSft ? 'stop' : 'continue';
        return stopAt !== undefined && ref.t!.step >= stopAt ? 'stop' : 'continue';
      },
    };
    const t = new Trainer(
      dir,
      config,
      records,
      '/data',
      async () => {
        const e = new ScriptedEngine();
        engines.push(e);
        return { engine: e, info: INFO };
      },
      events,
      hooks,
    );
    ref.t = t;
    return { trainer: t, events };
  };
  return { dir, config, engines, logs, make };
}

/** What a resume must reproduce of each checkpoint: step, phase, warm-start progress, data cursor and rng. */
const checkpointStates = (dir: string) =>
  listCheckpoints(dir).map((c) => [c.step, c.state.phase, c.state.warmStart, c.state.cursor, c.state.rng]);
/** The run's rollouts without their wall-clock time. */
const rolloutsOf = async (dir: string) =>
  (await readAll<RolloutRecord>(join(dir, 'events', 'rollouts.jsonl'))).records.map(({ time: _t, ...r }) => r);

/** Runs `s` until the stop after SFT step `n` and checkpoints there, as a pause inside the warm start does. */
async function stopAfterSftStep(s: ReturnType<typeof setup>, n: number): Promise<void> {
  const first = s.make(undefined, n);
  await first.trainer.open();
  assert.equal(await first.trainer.run(), 'stopped');
  await first.trainer.checkpointOnce();
  first.events.close();
}

test('each step writes both stream groups per question and one metrics line, with checkpoints every N', async () => {
  const { dir, engines, make } = setup();
  const { trainer, events } = make();
  await trainer.open();
  assert.equal(await trainer.run(), 'finished');
  events.close();
  const rollouts = (await readAll<RolloutRecord>(join(dir, 'events', 'rollouts.jsonl'))).records;
  const metrics = (await readAll<MetricsRecord>(join(dir, 'events', 'metrics.jsonl'))).records;
  assert.equal(rollouts.length, 4 * 2 * (3 + 2));
  assert.deepEqual(
    metrics.map((m) => m.step),
    [1, 2, 3, 4],
  );
  const step1 = rollouts.filter((r) => r.step === 1);
  assert.equal(step1.filter((r) => r.stream === 'grounded').length, 6);
  assert.ok(step1.every((r) => typeof r.advantage === 'number' && r.rewards.accuracy !== undefined));
  assert.ok(step1.filter((r) => r.stream === 'textual').every((r) => r.rewards.consistency !== undefined && Array.isArray(r.references)));
  assert.deepEqual(
    listCheckpoints(dir).map((c) => [c.step, c.state.phase]),
    [
      [0, 'sft'],
      [2, 'rl'],
    ],
  );
  assert.equal(engines[0]!.updates, 4);
});

test('a run stopped at a checkpoint and resumed draws the same next step as an uninterrupted run', async () => {
  const a = setup();
  const ra = a.make();
  await ra.trainer.open();
  await ra.trainer.run();
  ra.events.close();

  const b = setup();
  const first = b.make(2);
  await first.trainer.open();
  assert.equal(await first.trainer.run(), 'stopped');
  await first.trainer.checkpoint();
  first.events.close();
  const second = b.make();
  await second.trainer.open();
  assert.equal(second.trainer.step, 2);
  await second.trainer.run();
  second.events.close();

  const ra3 = (await rolloutsOf(a.dir)).filter((r) => r.step >= 3);
  const rb3 = (await rolloutsOf(b.dir)).filter((r) => r.step >= 3);
  assert.ok(ra3.length > 0);
  assert.deepEqual(rb3, ra3);
});

test('a stop inside the warm start checkpoints there; the resumed run continues SFT and then RL exactly as an uninterrupted run', async () => {
  const cfg = { sft: { steps: 5, batchSize: 4 } };
  const a = setup(cfg);
  const ra = a.make();
  await ra.trainer.open();
  assert.equal(await ra.trainer.run(), 'finished');
  ra.events.close();

  const b = setup(cfg);
  await stopAfterSftStep(b, 3);
  const mid = listCheckpoints(b.dir);
  assert.deepEqual(
    mid.map((c) => [c.step, c.state.phase, c.state.warmStart]),
    [[0, 'sft', { done: 3, of: 5 }]],
  );
  assert.equal(b.engines[0]!.sftBatches.length, 3);

  const second = b.make();
  await second.trainer.open();
  assert.equal(second.trainer.warmStartDone, 3);
  assert.equal(await second.trainer.run(), 'finished');
  second.events.close();
  assert.ok(b.logs.some((l) => /warm start continues after SFT step 3\/5/.test(l)));

  assert.deepEqual(
    [...b.engines[0]!.sftBatches, ...b.engines[1]!.sftBatches],
    a.engines[0]!.sftBatches,
    'the resumed warm start trains the batches the uninterrupted one did',
  );
  assert.equal(b.engines[1]!.version, a.engines[0]!.version);
  assert.deepEqual(checkpointStates(b.dir), checkpointStates(a.dir), 'checkpoint 0 is replaced by the finished warm start');
  const rollouts = await rolloutsOf(a.dir);
  assert.equal(rollouts.length, 4 * 2 * (3 + 2));
  assert.deepEqual(await rolloutsOf(b.dir), rollouts);
});

test('an engine crash restarts from the last checkpoint, keeps written lines and gives up after maxRestarts', async () => {
  const s = setup({ maxRestarts: 1, steps: 4 });
  const { trainer, events } = s.make();
  await trainer.open();
  // Third generate call = step 2's grounded stream.
  s.engines[0]!.failGenerateAt = 3;
  assert.equal(await trainer.run(), 'finished');
  events.close();
  assert.equal(s.engines.length, 2, 'a second engine was started');
  assert.ok(s.logs.some((l) => /engine failed at step 2/.test(l)));
  const metrics = (await readAll<MetricsRecord>(join(s.dir, 'events', 'metrics.jsonl'))).records;
  assert.deepEqual(
    metrics.map((m) => m.step),
    [1, 1, 2, 3, 4],
    'step 1 (after checkpoint 0) is trained again; its first lines stay',
  );

  const t = setup({ maxRestarts: 0 });
  const r = t.make();
  await r.trainer.open();
  t.engines[0]!.failGenerateAt = 1;
  await assert.rejects(r.trainer.run(), /engine failed 1 times \(limit 0\)/);
});

test('an engine crash in the warm start restarts it: before any checkpoint from the base model, after one from it; the run equals an uninterrupted one', async () => {
  const cfg = { sft: { steps: 5, batchSize: 4 } };
  const a = setup(cfg);
  const ra = a.make();
  await ra.trainer.open();
  await ra.trainer.run();
  ra.events.close();
  const rollouts = await rolloutsOf(a.dir);

  // No checkpoint yet: the second SFT step fails, the warm start begins again on a fresh engine.
  const b = setup(cfg);
  const rb = b.make();
  await rb.trainer.open();
  b.engines[0]!.failSftAt = 2;
  assert.equal(await rb.trainer.run(), 'finished');
  rb.events.close();
  assert.equal(b.engines.length, 2, 'a second engine was started');
  assert.ok(b.logs.some((l) => /engine failed in the warm start at SFT step 2\/5/.test(l)));
  assert.ok(b.logs.some((l) => /warm start begins again from the base model/.test(l)));
  assert.deepEqual(b.engines[1]!.sftBatches, a.engines[0]!.sftBatches);
  assert.equal(b.engines[1]!.version, a.engines[0]!.version);
  assert.deepEqual(checkpointStates(b.dir), checkpointStates(a.dir));
  assert.deepEqual(await rolloutsOf(b.dir), rollouts);

  // Stopped after SFT step 3 (checkpoint 0 inside the warm start), resumed, then SFT step 4 fails.
  const c = setup(cfg);
  await stopAfterSftStep(c, 3);
  const second = c.make();
  await second.trainer.open();
  c.engines[1]!.failSftAt = 1;
  assert.equal(await second.trainer.run(), 'finished');
  second.events.close();
  assert.equal(c.engines.length, 3);
  assert.ok(c.logs.some((l) => /engine failed in the warm start at SFT step 4\/5/.test(l)));
  assert.ok(c.logs.some((l) => /continuing from checkpoint 0/.test(l)));
  assert.deepEqual(
    [...c.engines[0]!.sftBatches, ...c.engines[2]!.sftBatches],
    a.engines[0]!.sftBatches,
    "the batches after the checkpoint are the uninterrupted run's",
  );
  assert.equal(c.engines[2]!.version, a.engines[0]!.version);
  assert.deepEqual(checkpointStates(c.dir), checkpointStates(a.dir));
  assert.deepEqual(await rolloutsOf(c.dir), rollouts);

  const d = setup({ ...cfg, maxRestarts: 0 });
  const rd = d.make();
  await rd.trainer.open();
  d.engines[0]!.failSftAt = 1;
  await assert.rejects(rd.trainer.run(), /engine failed 1 times \(limit 0\)/);
});
