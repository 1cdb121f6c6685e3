// A run that cannot start (a dataset or model folder that is not there) says so in one line and leaves no run folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'ivgr-failed-start-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const train = (config: string) => {
  const file = join(root, `${config.length}.yaml`);
  writeFileSync(file, config);
  const runs = join(root, 'runs');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', file, '--runs-dir', runs], { encoding: 'utf8' });
  return { ...r, runs: existsSync(runs) ? readdirSync(runs) : [] };
};

test('a missing dataset or model folder: exit 1, one line naming it, no run folder, no stack trace', () => {
  const data = train(`dataset:\n  path: ${join(root, 'no-such-dataset')}\nsteps: 2\n`);
  assert.equal(data.status, 1, data.stderr);
  assert.equal(data.stderr.trim().split('\n').length, 1, data.stderr);
  assert.match(data.stderr, /dataset not found: .*no-such-dataset/);
  assert.deepEqual(data.runs, []);

  const model = train(`dataset:\n  path: ${root}\nmodel: ${join(root, 'no-such-model')}\nsteps: 2\n`);
  assert.equal(model.status, 1, model.stderr);
  assert.match(model.stderr, /^ivgr train: .*model folder not found: .*no-such-model\n$/);
  assert.deepEqual(model.runs, []);
});

test('a start that fails inside the worker (a folder that holds no dataset) is one line too, without a stack trace', () => {
  const empty = mkdtempSync(join(root, 'empty-'));
  const r = train(`dataset:\n  path: ${empty}\nsteps: 2\n`);
  assert.equal(r.status, 1, r.stderr);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(last, /^ivgr train: .*not a recognised dataset/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, r.stderr);
});
