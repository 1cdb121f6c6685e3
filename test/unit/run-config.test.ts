import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, configHash, ConfigError } from '../../src/run/config-load';

test('an empty config resolves to the embedded defaults', () => {
  const { resolved } = parseConfigText('{}', 'run.json');
  assert.equal(resolved.model, 'builtin:tiny');
  assert.equal(resolved.streams.grounded.groupSize, 4);
  assert.equal(resolved.rewards.consistency, 0.5);
});

test('a YAML error names the file, line and field path', () => {
  const yaml = ['model: builtin:tiny', 'streams:', '  textual:', '    groupSize: -3', ''].join('\n');
  assert.throws(() => parseConfigText(yaml, 'cfg.yaml'), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^cfg\.yaml:4: streams\.textual\.groupSize: /);
    return true;
  });
});

test('an unknown field is named with its line and the known fields', () => {
  const yaml = ['steps: 3', 'rewards:', '  consistancy: 0.5', ''].join('\n');
  assert.throws(() => parseConfigText(yaml, 'cfg.yaml'), /cfg\.yaml:3: rewards\.consistancy: unknown field \(known: accuracy, format, grounding, consistency, tool,/);
});

test('broken JSON is reported with its line', () => {
  assert.throws(() => parseConfigText('{\n  "steps": 3,\n  "seed": }\n', 'cfg.json'), /cfg\.json:3: not valid JSON/);
});

test('the config hash changes with any field and ignores key order', () => {
  const a = parseConfigText('{"steps": 3, "seed": 2}', 'a.json').resolved;
  const b = parseConfigText('{"seed": 2, "steps": 3}', 'b.json').resolved;
  const c = parseConfigText('{"seed": 2, "steps": 4}', 'c.json').resolved;
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash(c));
});
