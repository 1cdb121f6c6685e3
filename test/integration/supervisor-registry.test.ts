// The extension's run registry (no vscode) over real processes: a window finds a live run in the
// runs folder and attaches; after a "reload" (a new registry) it is found and attached again; a
// kill -9 reaches the window as crashed, with the log tail, and the tree row says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunRegistry } from '../../src/extension/run-registry';
import { runNode } from '../../src/extension/run-display';
import { spawnDetached } from '../../src/run/detached-worker';
import { isPidAlive } from '../../src/run/process-state';
import { scratch } from './fixtures/scratch';

const fixture = join(import.meta.dirname, 'fixtures', 'protocol-worker.mjs');
const { root, started } = scratch('ivgr-registry-');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('a reloaded window re-attaches to a live run and sees it crash', async () => {
  const runs = join(root, 'runs');
  const live = join(runs, 'live');
  const pid = await spawnDetached({ command: process.execPath, args: [fixture, 'train', 'cfg.yaml', '--run-dir', live], runDir: live });
  started.push(pid);
  // A finished run and an imported dump sit beside it.
  mkdirSync(join(runs, 'done'), { recursive: true });
  writeFileSync(
    join(runs, 'done', 'run.json'),
    JSON.stringify({ id: 'done', status: 'finished', pid: null, step: 40, config: { steps: 40 } }),
  );
  const outside = join(root, 'dump');
  mkdirSync(join(outside, 'events'), { recursive: true });
  writeFileSync(join(outside, 'events', 'rollouts.jsonl'), '{"input":"q","output":"a","score":1,"step":0}\n');

  const first = new RunRegistry([runs]);
  first.addFolder(outside);
  await until('run.json', () => (isPidAlive(pid) ? true : undefined));
  await sleep(300);
  await first.refresh();
  await until('attached', () => (first.isAttached(live) ? true : undefined));
  await until('live steps', () => ((first.get(live)?.step ?? 0) >= 2 ? true : undefined));
  assert.equal(first.get(join(runs, 'done'))?.status, 'finished');
  assert.equal(first.get(outside)?.imported, true);
  first.dispose();
  assert.ok(isPidAlive(pid), 'closing the window leaves the worker running');

  const second = new RunRegistry([runs]);
  const endedEvents: string[] = [];
  second.on('ended', (dir, s) => endedEvents.push(`${dir}:${s.status}:${s.lastLog.length > 0}`));
  await second.refresh();
  await until('re-attached', () => (second.isAttached(live) ? true : undefined));
  const before = second.get(live)?.step ?? 0;
  await until('steps after re-attach', () => ((second.get(live)?.step ?? 0) > before ? true : undefined));

  second.send(live, { type: 'pause' });
  await until('paused', () => (second.get(live)?.status === 'paused' ? true : undefined));
  process.kill(pid, 'SIGKILL');
  await until('crashed', () => (endedEvents.length > 0 ? true : undefined));
  assert.deepEqual(endedEvents, [`${live}:crashed:true`]);
  const view = second.get(live);
  assert.equal(view?.status, 'crashed');
  assert.match(view ? runNode(view).contextValue : '', /:restart(:|$)/);
  assert.throws(() => second.send(live, { type: 'resume' }), /no worker is running/);
  second.dispose();
});
