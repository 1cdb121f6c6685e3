import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelCard, perceptionTable, trainingSeconds } from '../../src/run/model-card';
import type { MetricsRecord } from '../../src/core/types';

test('training time adds the spans between metrics lines and leaves out pauses', () => {
  assert.equal(trainingSeconds([{ time: 0 }, { time: 2 }, { time: 5 }, { time: 5000 }, { time: 5001 }]), 6);
  assert.equal(trainingSeconds([]), 0);
});

test('the held-out table has a row per task and a column per stage, in the order written', () => {
  const t = perceptionTable({
    loss: 0.5,
    'single-val.colour': 1,
    'single-val.place': 0.5,
    'demo-val.colour': 0.812,
    'demo-val.box.iou50': 0.25,
  });
  assert.equal(
    t,
    ['| task | single | demo |', '|---|---:|---:|', '| colour | 100 % | 81 % |', '| place | 50 % | – |', '| box hit@0.5 | – | 25 % |'].join(
      '\n',
    ),
  );
});

test('the card names the command, the digest, the hours and the last evaluation', () => {
  const m = (step: number, time: number, perception?: Record<string, number>) =>
    ({ step, time, ...(perception ? { perception } : {}) }) as unknown as MetricsRecord;
  const card = modelCard({
    name: 'pretrain-tiny',
    recipeText: 'name: pretrain-tiny\n',
    recipePath: 'configs/pretrain-tiny.yaml',
    parameters: 4_030_000,
    imageSize: 224,
    convention: 'qwen2-1000',
    ropeTheta: 10,
    sha256: 'ab'.repeat(32),
    bytes: 16_100_000,
    metrics: [m(0, 0, { loss: 7, 'demo-val.colour': 0.1 }), m(1, 500), m(2, 1000, { loss: 0.4, 'demo-val.colour': 0.9 })],
    machine: '2 CPU cores (1 trainer thread)',
    tasks: ['colour', 'trace'],
  });
  assert.match(
    card,
    /pretrained from random weights by `ivgr pretrain` on questions about\nsynthetic scenes: the colour of a named object; the benchmark's questions/,
  );
  assert.match(card, /npx ivgr pretrain configs\/pretrain-tiny\.yaml/);
  assert.match(card, /2 steps in 0\.28 h of training on 2 CPU cores \(1 trainer thread\), held-out evaluations included/);
  assert.match(card, new RegExp(`sha256 \`${'ab'.repeat(32)}\``));
  assert.match(card, /## Held-out perception \(step 2\)/);
  assert.match(card, /\| colour \| 90 % \|/);
  assert.match(card, /Held-out loss 0\.400/);
});
