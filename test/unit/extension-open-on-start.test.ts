import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runToOpenOnStart } from '../../src/extension/open-on-start';

const runs = new Set(['/ws/runs/studio-1', '/elsewhere/run-2']);
const isRunFolder = (d: string) => runs.has(d);

test('without IVGR_OPEN_RUN no panel opens on activation', () => {
  assert.equal(runToOpenOnStart({}, ['/ws'], isRunFolder), null);
  assert.equal(runToOpenOnStart({ IVGR_OPEN_RUN: '  ' }, ['/ws'], isRunFolder), null);
});

test('an absolute run folder opens as given; a relative one is taken from the first workspace folder', () => {
  assert.deepEqual(runToOpenOnStart({ IVGR_OPEN_RUN: '/elsewhere/run-2' }, ['/ws'], isRunFolder), { dir: '/elsewhere/run-2' });
  assert.deepEqual(runToOpenOnStart({ IVGR_OPEN_RUN: 'runs/studio-1' }, ['/ws', '/other'], isRunFolder), { dir: '/ws/runs/studio-1' });
});

test('a value that names no run is an error naming the variable and the folder', () => {
  const missing = runToOpenOnStart({ IVGR_OPEN_RUN: 'runs/gone' }, ['/ws'], isRunFolder);
  assert.ok(missing && 'error' in missing);
  assert.match(missing.error, /^IVGR_OPEN_RUN=runs\/gone: \/ws\/runs\/gone is not a run folder \(expected a folder holding run\.json\)$/);
  const noFolder = runToOpenOnStart({ IVGR_OPEN_RUN: 'runs/studio-1' }, [], isRunFolder);
  assert.ok(noFolder && 'error' in noFolder);
  assert.match(noFolder.error, /IVGR_OPEN_RUN=runs\/studio-1 is a relative path but no folder is open/);
});
