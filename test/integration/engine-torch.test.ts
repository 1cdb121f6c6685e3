/**
 * Drives a real engine process (the tiny built-in model) through the client:
 * load → generate → update → save → restore, plus the errors a user can hit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createTorchEngine, ensureTinyModel, EngineError, type TorchEngine } from '../../src/engine/torch';
import type { Engine, GenerateRequest } from '../../src/engine/engine';
import { squareCorpus } from './fixtures/square-corpus';

const work = mkdtempSync(join(tmpdir(), 'ivgr-engine-'));
const modelDir = join(work, 'tiny');
const image = join(work, 'red.png');
const logs: string[] = [];
let engine: Engine & TorchEngine;

const request = (seed: number, keep: boolean): GenerateRequest => ({
  prompts: [
    { id: 'p0', images: [image], messages: [{ role: 'user', text: 'What color is the square? (A) red (B) blue' }] },
    { id: 'p1', images: [image], messages: [{ role: 'user', text: '<image>Where is the square?' }] },
  ],
  n: 3,
  temperature: 1,
  maxTokens: 12,
  seed,
  keep,
});

before(async () => {
  await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 220, g: 20, b: 20 } } })
    .png()
    .toFile(image);
  assert.equal(await ensureTinyModel(modelDir, squareCorpus()), true);
  assert.equal(await ensureTinyModel(modelDir, squareCorpus()), false, 'an unchanged corpus must not rebuild');
  engine = createTorchEngine({ log: (l) => logs.push(l), timeoutMs: 120_000 });
});

after(async () => {
  await engine?.shutdown();
  rmSync(work, { recursive: true, force: true });
});

describe('torch engine client', () => {
  it('loads the tiny model and reports its convention and image size', async () => {
    const info = await engine.load({ model: modelDir, reference: true, learningRate: 1e-3, seed: 1 });
    assert.equal(info.architecture, 'Qwen2_5_VLForConditionalGeneration');
    assert.equal(info.coordConvention, 'qwen2-1000');
    assert.ok(info.imageSize > 0);
    assert.ok(info.parameters > 1e6);
    assert.ok(
      logs.some((l) => l.includes('engine: loaded')),
      'engine logs reach the log callback',
    );
  });

  it('generates n samples per prompt, reproducibly for a seed', async () => {
    const a = await engine.generate(request(5, false));
    const b = await engine.generate(request(5, false));
    assert.equal(a.samples.length, 6);
    assert.deepEqual(
      a.samples.map((s) => s.promptId),
      ['p0', 'p0', 'p0', 'p1', 'p1', 'p1'],
    );
    assert.deepEqual(
      a.samples.map((s) => s.text),
      b.samples.map((s) => s.text),
    );
    for (const s of a.samples) assert.ok(s.completionTokens >= 1 && s.completionTokens <= 12);
    await engine.release([...a.samples, ...b.samples].map((s) => s.rolloutId));
  });

  it('updates on kept rollouts, then saves and restores to identical greedy outputs', async () => {
    const g = await engine.generate(request(7, true));
    const u = await engine.update({
      items: g.samples.map((s, i) => ({ rolloutId: s.rolloutId, advantage: i % 2 ? 1 : -1 })),
      clipEpsilon: 0.2,
      klBeta: 0.01,
      aggregation: 'token',
      microBatch: 4,
      maxGradNorm: 1,
    });
    assert.ok(Number.isFinite(u.loss) && u.gradNorm > 0);
    await assert.rejects(
      engine.update({
        items: [{ rolloutId: g.samples[0]!.rolloutId, advantage: 1 }],
        clipEpsilon: 0.2,
        klBeta: 0,
        aggregation: 'token',
        microBatch: 4,
        maxGradNorm: 1,
      }),
      (e: unknown) => e instanceof EngineError && e.kind === 'unknown-rollout',
    );

    const ckpt = join(work, 'ckpt-1');
    await engine.save(ckpt, 1);
    const greedy = { ...request(0, false), temperature: 0, n: 1 };
    const before = await engine.generate(greedy);
    const g2 = await engine.generate(request(8, true));
    await engine.update({
      items: g2.samples.map((s) => ({ rolloutId: s.rolloutId, advantage: 1 })),
      clipEpsilon: 0.2,
      klBeta: 0,
      aggregation: 'sequence',
      microBatch: 8,
      maxGradNorm: 1,
      learningRate: 0.01,
    });
    assert.deepEqual(await engine.restore(ckpt), { step: 1 });
    const after = await engine.generate(greedy);
    assert.deepEqual(
      after.samples.map((s) => s.text),
      before.samples.map((s) => s.text),
    );
  });

  it('answers bad requests with errors a user can act on, and keeps serving', async () => {
    const bad = {
      ...request(1, false),
      prompts: [{ id: 'x', images: [join(work, 'missing.png')], messages: [{ role: 'user' as const, text: 'hi' }] }],
    };
    await assert.rejects(
      engine.generate(bad),
      (e: unknown) => e instanceof EngineError && e.kind === 'bad-image' && e.message.includes('missing.png'),
    );
    await assert.rejects(
      engine.load({ model: join(work, 'no-such-model') }),
      (e: unknown) => e instanceof EngineError && e.kind === 'model-not-found',
    );
    await assert.rejects(
      engine.generate({ ...request(1, false), n: 0 }),
      (e: unknown) => e instanceof EngineError && e.kind === 'invalid-params' && e.message.includes('n'),
    );
    const ok = await engine.generate({ ...request(1, false), n: 1 });
    assert.equal(ok.samples.length, 2);
  });

  it('cancels a running generate through an abort signal', async () => {
    const ctl = new AbortController();
    const pending = engine.generate({ ...request(3, false), n: 8, maxTokens: 4000 }, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 300);
    await assert.rejects(pending, (e: unknown) => e instanceof EngineError && e.kind === 'cancelled');
  });

  it('rejects in-flight calls with the exit status when the process dies', async () => {
    const doomed = createTorchEngine({ log: () => undefined });
    const loading = doomed.load({ model: modelDir });
    setTimeout(() => doomed.kill(), 200);
    await assert.rejects(loading, (e: unknown) => e instanceof EngineError && e.kind === 'exited' && /SIGKILL/.test(e.message));
    await assert.rejects(doomed.generate(request(1, false)), (e: unknown) => e instanceof EngineError && e.kind === 'exited');
  });
});
