import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allowedActions,
  groupChildren,
  panelControls,
  pickActiveRun,
  runChildren,
  runContextValue,
  runNode,
  statusBarText,
  type RunView,
} from '../../src/extension/run-display';

const run = (over: Partial<RunView> = {}): RunView => ({
  id: 'r1',
  dir: '/runs/r1',
  name: null,
  status: 'running',
  step: 12,
  totalSteps: 40,
  phase: 'generate',
  reward: { grounded: 0.613, textual: 0.48 },
  checkpoints: [],
  evals: [],
  lastLog: [],
  imported: false,
  attached: true,
  ...over,
});

test('actions follow the run state', () => {
  assert.deepEqual(allowedActions(run()), ['pause', 'stop', 'open', 'log', 'export']);
  assert.deepEqual(allowedActions(run({ status: 'paused', checkpoints: [10] })), ['resume', 'stop', 'evaluate', 'open', 'log', 'export']);
  assert.deepEqual(allowedActions(run({ status: 'crashed' })), ['restart', 'open', 'log', 'export']);
  assert.deepEqual(allowedActions(run({ status: 'finished', checkpoints: [40] })), ['evaluate', 'open', 'log', 'export']);
  // an imported dump can be read and exported, never trained or evaluated
  assert.deepEqual(allowedActions(run({ status: 'finished', imported: true, checkpoints: [1] })), ['open', 'log', 'export']);
  // a followed import only stops following; once stopped it is not restarted
  assert.deepEqual(allowedActions(run({ status: 'running', imported: true })), ['stop', 'open', 'log', 'export']);
  assert.deepEqual(allowedActions(run({ status: 'stopped', imported: true })), ['open', 'log', 'export']);
});

test('the panel offers the controls that act: none on a finished or imported run, only Stop on a followed import', () => {
  assert.deepEqual(panelControls(run()), ['pause', 'stop']);
  assert.deepEqual(panelControls(run({ status: 'paused' })), ['resume', 'stop']);
  assert.deepEqual(panelControls(run({ status: 'stopped' })), ['resume']);
  assert.deepEqual(panelControls(run({ status: 'finished', checkpoints: [40] })), []);
  assert.deepEqual(panelControls(run({ status: 'finished', imported: true })), []);
  assert.deepEqual(panelControls(run({ status: 'running', imported: true })), ['stop']);
});

test('the context value lets menus match one action without matching its prefix', () => {
  const cv = runContextValue(run({ status: 'paused' }));
  assert.match(cv, /:resume(:|$)/);
  assert.doesNotMatch(cv, /:pause(:|$)/);
  assert.doesNotMatch(runContextValue(run()), /:restart(:|$)/);
});

test('run rows show status, progress and rewards; a crash shows its last log lines', () => {
  const n = runNode(run());
  assert.equal(n.description, 'running · 12/40 · G 0.61 · T 0.48');
  assert.equal(n.icon, 'sync~spin');
  const crashed = runNode(
    run({ status: 'crashed', lastLog: ['step 11', 'Traceback (most recent call last):', 'RuntimeError: CUDA out of memory'] }),
  );
  assert.equal(crashed.icon, 'error');
  assert.match(crashed.tooltip, /Last log lines:\nstep 11\nTraceback[^\n]*\nRuntimeError: CUDA out of memory$/);
  assert.equal(runNode(run({ reward: {}, step: 0 })).description, 'running · 0/40');
});

test('checkpoints are listed newest first and evaluations carry accuracy and IoU', () => {
  const r = run({
    status: 'finished',
    checkpoints: [10, 20, 30],
    evals: [
      { checkpoint: '30', mode: 'textual', engine: 'torch', n: 64, accuracy: 0.5, ciLow: 0.38, ciHigh: 0.62, meanIou: null, hitRate: null },
      {
        checkpoint: '30',
        mode: 'grounded',
        engine: 'torch',
        n: 64,
        accuracy: 0.25,
        ciLow: 0.16,
        ciHigh: 0.37,
        meanIou: 0.41,
        hitRate: 0.3,
      },
    ],
  });
  assert.deepEqual(
    runChildren(r).map((c) => c.label),
    ['Checkpoints', 'Evaluations'],
  );
  assert.deepEqual(runChildren(run()), []);
  const ckpts = groupChildren(r, 'checkpoints');
  assert.deepEqual(
    ckpts.map((c) => [c.label, c.description]),
    [
      ['step 30', 'latest'],
      ['step 20', ''],
      ['step 10', ''],
    ],
  );
  const evals = groupChildren(r, 'evaluations');
  assert.deepEqual(
    evals.map((e) => e.description),
    ['acc 50.0% · n=64', 'acc 25.0% · IoU 0.41 · n=64'],
  );
});

test('status bar shows progress while running, the state and progress while paused, the state otherwise', () => {
  assert.equal(statusBarText(run()), '$(sync~spin) iVGR 12/40 · G 0.61 · T 0.48');
  assert.equal(statusBarText(run({ status: 'paused', reward: { textual: 0.5 } })), '$(debug-pause) iVGR paused 12/40 · G – · T 0.50');
  assert.equal(statusBarText(run({ status: 'stopped', reward: {} })), '$(debug-stop) iVGR stopped');
  // The e2e resume stage waits for this pattern, so a paused run must not match it.
  assert.doesNotMatch(statusBarText(run({ status: 'paused' })), /iVGR \d+\/\d+/);
});

test('the active run is the focused one, else a live one, else none', () => {
  const a = run({ dir: '/a', status: 'finished' });
  const b = run({ dir: '/b', status: 'paused' });
  assert.equal(pickActiveRun([a, b], '/a'), a);
  assert.equal(pickActiveRun([a, b], '/gone'), b);
  assert.equal(pickActiveRun([a], null), null);
});
