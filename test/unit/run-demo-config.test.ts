import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/run/config-load';
import { runConfigSchema } from '../../src/run/config-schema';
import { DEMO_CONFIG } from '../../src/worker/demo-config';

test('configs/demo.yaml holds the same settings as the embedded demo default (paths aside)', () => {
  const file = parseConfigText(readFileSync('configs/demo.yaml', 'utf8'), 'configs/demo.yaml').resolved;
  const embedded = runConfigSchema.parse(DEMO_CONFIG);
  assert.deepEqual({ ...file, dataset: null }, { ...embedded, dataset: null });
});

test('every shipped config is a valid run config', () => {
  for (const name of readdirSync('configs').filter((f) => /\.(ya?ml|json)$/.test(f))) {
    const file = join('configs', name);
    assert.doesNotThrow(() => parseConfigText(readFileSync(file, 'utf8'), file), file);
  }
});
