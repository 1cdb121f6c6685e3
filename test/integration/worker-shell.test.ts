// The shell every worker runs in, driven as a client drives it: over the run's control socket.
// What a user notices: a resume sent before a pause was taken cancels it, a pause sent to a paused
// run does not resume it, and a stop always ends the wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runConfigSchema } from '../../src/run/config-schema';
import { ControlClient } from '../../src/run/control-client';
import { createRunDir, readRunJson, runPaths } from '../../src/run/run-dir';
import { WorkerShell, type WorkerRequest } from '../../src/worker/worker-shell';
import { Progress } from '../../src/worker/progress';
import { until } from './fixtures/until';
import { scratch } from './fixtures/scratch';

const { root } = scratch('ivgr-worker-shell-');
const poll = { timeoutMs: 5_000, intervalMs: 10 };

test('requests over the control socket: resume cancels a pending pause, a pause while paused waits on, stop ends the wait', async () => {
  const dir = join(root, 'run');
  const run = createRunDir(dir, {
    id: 'shell-run',
    given: {},
    config: runConfigSchema.parse({ name: 'shell-run', model: 'builtin:tiny' }),
    engine: 'torch',
  });
  const seen: (WorkerRequest | null)[] = [];
  const shell = await WorkerShell.open(dir, run, {
    progress: new Progress(process.stderr, false),
    onRequest: (pending) => seen.push(pending),
  });
  assert.equal(readRunJson(dir).status, 'running');
  const client = await ControlClient.connect(runPaths(dir).controlSocket);
  try {
    client.send({ type: 'pause' });
    await until('the pause', async () => (shell.pending === 'pause' ? true : undefined), poll);
    client.send({ type: 'resume' });
    await until('the resume to cancel it', async () => (seen.length === 2 ? true : undefined), poll);
    assert.equal(shell.pending, null);

    // Paused at a boundary, as a worker's loop pauses.
    shell.setStatus({ status: 'paused' });
    const taken = shell.nextRequest();
    client.send({ type: 'pause' });
    await until('the second pause to arrive', async () => (seen.length === 3 ? true : undefined), poll);
    assert.equal(shell.pending, null, 'a pause while paused changes nothing');
    client.send({ type: 'stop' });
    assert.equal(await taken, 'stop');
    shell.ended('stopped');
    assert.equal(readRunJson(dir).status, 'stopped');
  } finally {
    client.close();
    await shell.close();
  }
  assert.equal(existsSync(runPaths(dir).controlSocket), false, 'the socket is removed');
});
