import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRunsMarkdown } from '../../src/extension/run-compare';
import { checkpointOf, runDirOf } from '../../src/extension/command-args';
import type { RunView } from '../../src/extension/run-display';

const view = (id: string, over: Partial<RunView> = {}): RunView => ({
  id,
  dir: `/runs/${id}`,
  name: null,
  status: 'finished',
  step: 40,
  totalSteps: 40,
  phase: null,
  reward: { grounded: 0.7, textual: 0.6 },
  checkpoints: [40],
  evals: [],
  lastLog: [],
  imported: false,
  attached: false,
  ...over,
});

test('the comparison shows eval accuracy per mode at the latest checkpoint and only differing config fields', () => {
  const ivgr = view('ivgr', {
    evals: [
      { checkpoint: '20', mode: 'textual', engine: 'torch', n: 64, accuracy: 0.4, ciLow: 0, ciHigh: 1, meanIou: null, hitRate: null },
      { checkpoint: '40', mode: 'textual', engine: 'torch', n: 64, accuracy: 0.55, ciLow: 0, ciHigh: 1, meanIou: null, hitRate: null },
    ],
  });
  const base = view('baseline', { status: 'stopped', step: 30, reward: { grounded: 0.65 } });
  const md = compareRunsMarkdown([
    { view: ivgr, config: { name: 'ivgr', rewards: { consistency: 0.5, accuracy: 1 }, steps: 40 } },
    { view: base, config: { name: 'baseline', rewards: { consistency: 0, accuracy: 1 }, steps: 40 } },
  ]);
  assert.match(md, /\| ivgr \| baseline \|/);
  assert.match(md, /\| step \| 40\/40 \| 30\/40 \|/);
  assert.match(md, /\| mean reward, textual \| 0\.60 \| – \|/);
  assert.match(md, /\| eval accuracy, textual \| 55\.0% @40 \| – \|/);
  assert.doesNotMatch(md, /eval accuracy, grounded/);
  assert.match(md, /\| `rewards.consistency` \| 0\.5 \| 0 \|/);
  assert.doesNotMatch(md, /rewards.accuracy|`steps`/);
});

test('identical configs say so', () => {
  assert.match(
    compareRunsMarkdown([
      { view: view('a'), config: { steps: 1 } },
      { view: view('b'), config: { steps: 1 } },
    ]),
    /The configs are the same\./,
  );
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
