import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, configHash, ConfigError } from '../../src/run/config-load';
import { runDatasets } from '../../src/run/config-schema';

test('an empty config resolves to the embedded defaults', () => {
  const { resolved } = parseConfigText('{}', 'run.json');
  assert.equal(resolved.model, 'builtin:tiny');
  assert.equal(resolved.streams.grounded.groupSize, 4);
  assert.equal(resolved.rewards.consistency, 0.5);
});

test('a YAML error names the file, line and field path', () => {
  const yaml = ['model: builtin:tiny', 'streams:', '  textual:', '    groupSize: -3', ''].join('\n');
  assert.throws(
    () => parseConfigText(yaml, 'cfg.yaml'),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^cfg\.yaml:4: streams\.textual\.groupSize: /);
      return true;
    },
  );
});

test('an unknown field is named with its line and the known fields', () => {
  const yaml = ['steps: 3', 'rewards:', '  consistancy: 0.5', ''].join('\n');
  assert.throws(
    () => parseConfigText(yaml, 'cfg.yaml'),
    /cfg\.yaml:3: rewards\.consistancy: unknown field \(known: accuracy, format, grounding, consistency, tool,/,
  );
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

test('datasets: several named datasets resolve; both forms, duplicate names and bad entries are errors naming the field and line', () => {
  const { resolved } = parseConfigText('datasets:\n  - { path: data/a.jsonl }\n  - { path: data/b, name: bench }\n', 'run.yaml');
  assert.deepEqual(runDatasets(resolved), [
    { name: 'a', path: 'data/a.jsonl' },
    { name: 'bench', path: 'data/b' },
  ]);
  assert.equal(resolved.dataset, undefined);
  assert.deepEqual(runDatasets(parseConfigText('{}', 'run.json').resolved), [{ name: null, path: 'data/synthetic' }]);
  assert.deepEqual(runDatasets(parseConfigText('dataset: { path: x, format: jsonl }\n', 'run.yaml').resolved), [
    { name: null, path: 'x', format: 'jsonl' },
  ]);

  assert.throws(
    () => parseConfigText('dataset: { path: x }\ndatasets:\n  - { path: y }\n', 'run.yaml'),
    (e: Error) =>
      e instanceof ConfigError &&
      /^run\.yaml:3: datasets: use either "dataset" \(one\) or "datasets" \(several\), not both$/.test(e.message),
  );
  assert.throws(
    () => parseConfigText('datasets:\n  - { path: a/x.jsonl }\n  - { path: b/x.jsonl }\n', 'run.yaml'),
    /run\.yaml:3: datasets\.1\.path: the name "x" \(from the path\) is already the name of datasets\.0/,
  );
  assert.throws(() => parseConfigText('datasets: []\n', 'run.yaml'), /run\.yaml:1: datasets: /);
  assert.throws(
    () => parseConfigText('datasets:\n  - { path: a, weight: 2 }\n', 'run.yaml'),
    /run\.yaml:2: datasets\.0\.weight: unknown field \(known: path, format, name\)/,
  );
  assert.throws(() => parseConfigText('datasets:\n  - { path: a, name: "a b" }\n', 'run.yaml'), /datasets\.0\.name: letters, digits/);
});
