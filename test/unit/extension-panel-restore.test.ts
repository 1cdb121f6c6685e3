import { test } from 'node:test';
import assert from 'node:assert/strict';
import { panelRunId, resolvePanelRun } from '../../src/extension/panel/panel-restore';

const folders = new Set(['/ws/runs/a-1', '/ws/runs/b-2', '/elsewhere/c-3']);
const isRunFolder = (d: string) => folders.has(d);
const runs = [
  { id: 'a-1', dir: '/ws/runs/a-1' },
  { id: 'b-2', dir: '/ws/runs/b-2' },
];

test('a reloaded panel reopens the folder its run id was saved under', () => {
  assert.equal(resolvePanelRun({ runId: 'c-3' }, { 'c-3': '/elsewhere/c-3' }, runs, isRunFolder), '/elsewhere/c-3');
});

test('without the saved map (storage not flushed before the reload) the run list finds the run', () => {
  assert.equal(resolvePanelRun({ runId: 'b-2', tab: 'rollouts' }, {}, runs, isRunFolder), '/ws/runs/b-2');
  // Panels saved before the id was known kept the folder path as their id.
  assert.equal(resolvePanelRun({ runId: '/ws/runs/a-1' }, {}, runs, isRunFolder), '/ws/runs/a-1');
});

test('a stale map entry gives way to the run list; a run that is gone closes the panel', () => {
  assert.equal(resolvePanelRun({ runId: 'a-1' }, { 'a-1': '/deleted/a-1' }, runs, isRunFolder), '/ws/runs/a-1');
  assert.equal(resolvePanelRun({ runId: 'z-9' }, { 'z-9': '/deleted/z-9' }, runs, isRunFolder), undefined);
});

test('state without a run id restores nothing', () => {
  for (const state of [undefined, null, 'a-1', {}, { runId: 7 }, { runId: '' }])
    assert.equal(resolvePanelRun(state, { 'a-1': '/ws/runs/a-1' }, runs, isRunFolder), undefined);
});

test('the id a panel saves matches what the run list will know it by', () => {
  assert.equal(panelRunId('/ws/runs/a-1', { id: 'a-1', dir: '/ws/runs/a-1' }), 'a-1');
  // Before run.json is read the folder name stands in; a run's id is its folder name.
  assert.equal(panelRunId('/ws/runs/b-2', undefined), 'b-2');
  assert.equal(panelRunId('C:\\ws\\runs\\b-2\\', undefined), 'b-2');
});
