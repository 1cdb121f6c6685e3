/** The client starting the engine under torchrun (2 CPU ranks, gloo): the replicas stay in sync. */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createTorchEngine, ensureTinyModel, type TorchEngine } from '../../src/engine/torch';
import type { Engine } from '../../src/engine/engine';

const work = mkdtempSync(join(tmpdir(), 'ivgr-torchrun-'));
const modelDir = join(work, 'tiny');
const image = join(work, 'blue.png');
let engine: Engine & TorchEngine;

before(async () => {
  await sharp({ create: { width: 80, height: 80, channels: 3, background: { r: 20, g: 20, b: 220 } } })
    .png()
    .toFile(image);
  const lines = Array.from(
    { length: 40 },
    (_, i) => `<think>The shape at <box>[${i},${i},${i + 50},${i + 50}]</box> is blue.</think><answer>B</answer>`,
  );
  await ensureTinyModel(modelDir, lines);
  engine = createTorchEngine({
    log: () => undefined,
    torchrun: ['--standalone', '--nproc_per_node', '2'],
    env: { OMP_NUM_THREADS: '1' },
    timeoutMs: 120_000,
  });
});

after(async () => {
  await engine?.shutdown();
  rmSync(work, { recursive: true, force: true });
});

it('keeps both ranks identical through generate and update', async () => {
  await engine.load({ model: modelDir, learningRate: 1e-2 });
  const g = await engine.generate({
    prompts: [0, 1, 2].map((i) => ({
      id: `p${i}`,
      images: [image],
      messages: [{ role: 'user' as const, text: 'What color is the shape?' }],
    })),
    n: 1,
    temperature: 1,
    maxTokens: 6,
    seed: 4,
    keep: true,
  });
  assert.deepEqual(
    g.samples.map((s) => s.promptId),
    ['p0', 'p1', 'p2'],
  );
  const before = await engine.digest();
  await engine.update({
    items: g.samples.map((s, i) => ({ rolloutId: s.rolloutId, advantage: i - 1 })),
    clipEpsilon: 0.2,
    klBeta: 0,
    aggregation: 'token',
    microBatch: 1,
    maxGradNorm: 1,
  });
  const after = await engine.digest();
  assert.equal(after.ranks.length, 2);
  assert.equal(after.ranks[0], after.ranks[1]);
  assert.notEqual(after.ranks[0], before.ranks[0]);
});
