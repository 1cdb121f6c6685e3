import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { checkDevice, checkRunName, checkSteps, configText, parseConfigProblems } from '../../src/extension/config-template';
import { parseConfigText } from '../../src/run/config-load';

test('wizard answers are checked with a message saying what is expected', () => {
  assert.equal(checkRunName('tiny-run_1'), null);
  assert.match(checkRunName('my run') ?? '', /letters, digits/);
  assert.equal(checkSteps('40'), null);
  assert.match(checkSteps('4.5') ?? '', /whole number/);
  assert.match(checkSteps('0') ?? '', /between 1/);
  for (const d of ['cpu', 'cuda', 'cuda:1', 'mps']) assert.equal(checkDevice(d), null);
  assert.match(checkDevice('gpu') ?? '', /cpu, cuda/);
});

test('the template is a config the worker accepts, with the answers in it', () => {
  const text = configText({ name: 'demo', dataset: null, model: 'builtin:tiny', steps: 20, device: 'cpu' });
  const { resolved } = parseConfigText(text, 'demo.yaml');
  assert.equal(resolved.name, 'demo');
  assert.equal(resolved.steps, 20);
  assert.equal(resolved.dataset?.path, 'data/synthetic');
  assert.ok(resolved.synthetic, 'no dataset chosen: the synthetic set is generated');
  const own = parse(configText({ name: 'vstar', dataset: 'data/vstar', model: 'models/qwen', steps: 100, device: 'cuda:0' })) as Record<
    string,
    unknown
  >;
  assert.deepEqual(own.dataset, { path: 'data/vstar' });
  assert.equal(own.synthetic, undefined);
  assert.equal(own.device, 'cuda:0');
});

test('config errors become problems with line and field, for jumping to the field', () => {
  const text = 'name: x\nsteps: -3\nrewardz: 1\n';
  let message = '';
  try {
    parseConfigText(text, 'cfg/run.yaml');
  } catch (err) {
    message = (err as Error).message;
  }
  const problems = parseConfigProblems(message, 'cfg/run.yaml');
  const steps = problems.find((p) => p.field === 'steps');
  assert.equal(steps?.line, 2);
  const unknown = problems.find((p) => p.field === 'rewardz');
  assert.equal(unknown?.line, 3);
  assert.match(unknown?.message ?? '', /unknown field/);
  assert.deepEqual(parseConfigProblems('something else broke', 'cfg/run.yaml'), [
    { file: 'cfg/run.yaml', line: null, field: null, message: 'something else broke' },
  ]);
});
