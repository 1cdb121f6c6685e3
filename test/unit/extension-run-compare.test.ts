import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointOrder, configDifferences } from '../../src/core/config-diff';
import { checkpointOf, runDirOf } from '../../src/extension/command-args';

test("config differences list only the fields that differ, with each run's value", () => {
  assert.deepEqual(
    configDifferences([
      { name: 'ivgr', rewards: { consistency: 0.5, accuracy: 1 }, steps: 40 },
      { name: 'baseline', rewards: { consistency: 0, accuracy: 1 }, steps: 40, seed: 2 },
    ]),
    [
      { field: 'rewards.consistency', values: ['0.5', '0'] },
      { field: 'seed', values: ['–', '2'] },
    ],
  );
  assert.deepEqual(configDifferences([{ steps: 1 }, { steps: 1 }]), []);
});

test('checkpoints order by step, the warm start ("sft") first', () => {
  assert.deepEqual(['step-40', 'sft', 'step-6', '20'].sort(checkpointOrder), ['sft', 'step-6', '20', 'step-40']);
});

test('commands accept a tree node, a path or a URI, and find a checkpoint node', () => {
  assert.equal(runDirOf({ kind: 'run', runDir: '/runs/a' }), '/runs/a');
  assert.equal(runDirOf('/runs/b'), '/runs/b');
  assert.equal(runDirOf({ fsPath: '/runs/c', scheme: 'file' }), '/runs/c');
  assert.equal(runDirOf(undefined), undefined);
  assert.equal(runDirOf(''), undefined);
  assert.equal(checkpointOf({ kind: 'checkpoint', runDir: '/runs/a', step: 20 }), 20);
  assert.equal(checkpointOf({ kind: 'run', runDir: '/runs/a' }), undefined);
});
