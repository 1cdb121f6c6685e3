import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfigText } from '../../src/run/config-load';
import { runConfigSchema } from '../../src/run/config-schema';
import { DEMO_CONFIG } from '../../src/worker/demo-config';

test('configs/demo.yaml holds the same settings as the embedded demo default (paths aside)', () => {
  const file = parseConfigText(readFileSync('configs/demo.yaml', 'utf8'), 'configs/demo.yaml').resolved;
  const embedded = runConfigSchema.parse(DEMO_CONFIG);
  assert.deepEqual({ ...file, dataset: null }, { ...embedded, dataset: null });
});
