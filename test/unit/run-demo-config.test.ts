import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText, parseConfigWith } from '../../src/run/config-load';
import { pretrainConfigSchema, totalSteps } from '../../src/run/pretrain-config';
import { runConfigSchema } from '../../src/run/config-schema';
import { DEMO_CONFIG } from '../../src/worker/demo-config';

test('configs/demo.yaml holds the same settings as the embedded demo default (paths aside)', () => {
  const file = parseConfigText(readFileSync('configs/demo.yaml', 'utf8'), 'configs/demo.yaml').resolved;
  const embedded = runConfigSchema.parse(DEMO_CONFIG);
  assert.deepEqual({ ...file, dataset: null }, { ...embedded, dataset: null });
});

test('every shipped config is a valid run config, or pretraining recipe for pretrain-*', () => {
  for (const name of readdirSync('configs').filter((f) => /\.(ya?ml|json)$/.test(f))) {
    const file = join('configs', name);
    const text = readFileSync(file, 'utf8');
    if (name.startsWith('pretrain-')) assert.doesNotThrow(() => parseConfigWith(pretrainConfigSchema, text, file), file);
    else assert.doesNotThrow(() => parseConfigText(text, file), file);
  }
});

test('the shipped pretraining recipe keeps the demo model: 224 px input, low M-RoPE base, curriculum ending at the demo geometry', () => {
  const recipe = parseConfigWith(
    pretrainConfigSchema,
    readFileSync('configs/pretrain-tiny.yaml', 'utf8'),
    'configs/pretrain-tiny.yaml',
  ).resolved;
  assert.equal(recipe.model.imageSize, 224);
  assert.ok(recipe.model.ropeTheta <= 100);
  const last = recipe.stages.at(-1)!.scene;
  const demo = runConfigSchema.parse(DEMO_CONFIG).synthetic!;
  assert.equal(last.size, demo.size);
  assert.equal(last.targetScale, demo.targetScale);
  assert.ok(totalSteps(recipe) > 1000);
});

test('a pretraining recipe error names the file, line and field', () => {
  assert.throws(
    () => parseConfigWith(pretrainConfigSchema, 'stages:\n  - name: a\n    steps: 0\n', 'r.yaml'),
    /r\.yaml:3: stages\.0\.steps: .*(greater than 0|>0|positive)/i,
  );
  assert.throws(() => parseConfigWith(pretrainConfigSchema, 'stages: []\nbogus: 1\n', 'r.yaml'), /r\.yaml:2: bogus: unknown field/);
  assert.throws(
    () => parseConfigWith(pretrainConfigSchema, 'stages:\n  - name: a\n    steps: 5\n    scene:\n      shapeShare: 1.5\n', 'r.yaml'),
    /r\.yaml:5: stages\.0\.scene\.shapeShare: .*(less than or equal to 1|<=1)/i,
  );
  assert.throws(
    () => parseConfigWith(pretrainConfigSchema, 'stages:\n  - name: a\n    steps: 5\n    scene:\n      tasks: [trace, place]\n', 'r.yaml'),
    /r\.yaml:5: stages\.0\.scene\.tasks: a trace stage asks trace questions only; draw others into it with 'replay'/,
  );
});
