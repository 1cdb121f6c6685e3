// Supervision with real processes: a worker started detached by a client that then exits keeps
// running; a new client re-attaches through the run directory, reads state and backfills events;
// kill -9 shows as crashed with the log tail, and resume continues from the last step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDetached } from '../../src/run/detached-worker';
import { readRange } from '../../src/run/jsonl-reader';
import { isPidAlive } from '../../src/run/process-state';
import { RunAttachment, type ConnectionState } from '../../src/run/run-attachment';
import { inspectRun } from '../../src/run/run-state';
import type { WorkerMessage } from '../../src/core/protocol/control';
import { scratch } from './fixtures/scratch';

const fixture = join(import.meta.dirname, 'fixtures', 'protocol-worker.mjs');
const { root, started } = scratch('ivgr-supervisor-');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function nextState(a: RunAttachment, kind: ConnectionState['kind']): Promise<ConnectionState> {
  return new Promise((resolve) => {
    const off = a.onState((s) => {
      if (s.kind !== kind) return;
      off();
      resolve(s);
    });
  });
}

test('a worker started by a client that exits survives, and a new client re-attaches and backfills', async () => {
  const runDir = join(root, 'run-a');
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'spawn-and-exit.ts'),
      runDir,
      fixture,
      'train',
      'cfg.yaml',
      '--run-dir',
      runDir,
    ],
    { encoding: 'utf8' },
  );
  const pid = Number(out.trim());
  started.push(pid);
  assert.ok(pid > 0);

  // The spawning client is gone; the worker still runs and reaches a few steps.
  await until('step 3', async () => {
    const s = await inspectRun(runDir).catch(() => null);
    return s && s.step !== null && s.step >= 3 ? s : undefined;
  });
  const state = await inspectRun(runDir);
  assert.equal(state.pid, pid);
  assert.equal(state.effective, 'running');
  assert.ok(state.pidAlive && state.socketPresent);

  const attach = new RunAttachment(runDir);
  const first = await attach.start();
  assert.equal(first.kind, 'connected');
  const live: Array<{ offset: number; step: unknown }> = [];
  attach.onMessage((m: WorkerMessage) => {
    if (m.type === 'event' && m.file === 'metrics') live.push({ offset: m.offset, step: m.record.step });
  });
  await until('two live events', () => (live.length >= 2 ? true : undefined));

  // Backfill from the file: every step from 1 on, and live events agree with file offsets.
  const chunk = await readRange<Record<string, unknown>>(join(runDir, 'events', 'metrics.jsonl'), 0, 8 << 20);
  const steps = chunk.lines.map((l) => l.record.step);
  assert.deepEqual(
    steps,
    steps.map((_, i) => i + 1),
  );
  const firstLive = live[0];
  assert.ok(firstLive);
  const match = chunk.lines.find((l) => l.offset === firstLive.offset);
  assert.equal(match?.record.step, firstLive.step);

  // Pause and resume through the control channel.
  attach.send({ type: 'pause' });
  await attach.connection?.waitFor((m) => m.type === 'status' && m.status.status === 'paused');
  assert.equal((await inspectRun(runDir)).effective, 'paused');
  attach.send({ type: 'resume' });
  await attach.connection?.waitFor((m) => m.type === 'status' && m.status.status === 'running');

  // Drop this client; a second one attaches to the same worker.
  attach.dispose();
  assert.ok(isPidAlive(pid));
  const again = new RunAttachment(runDir);
  const s2 = await again.start();
  assert.equal(s2.kind, 'connected');
  assert.equal(s2.kind === 'connected' && s2.status.pid, pid);

  // Stop: the worker checkpoints, ends cleanly, and the attachment reports stopped.
  const ended = nextState(again, 'ended');
  again.send({ type: 'stop' });
  const end = await ended;
  assert.equal(end.kind === 'ended' && end.status, 'stopped');
  assert.deepEqual(end.kind === 'ended' && end.lastLog, []);
  const final = await inspectRun(runDir);
  assert.ok(existsSync(join(runDir, 'checkpoints', String(final.step))));
  again.dispose();
});

test('kill -9 of the worker shows as crashed with the log tail, and resume continues from the last step', async () => {
  const runDir = join(root, 'run-b');
  const pid = await spawnDetached({ command: process.execPath, args: [fixture, 'train', 'cfg.yaml', '--run-dir', runDir], runDir });
  started.push(pid);
  const attach = new RunAttachment(runDir, { logLines: 5 });
  assert.equal((await attach.start()).kind, 'connected');
  await until('step 6', async () => ((await inspectRun(runDir)).step ?? 0) >= 6 || undefined);

  const ended = nextState(attach, 'ended');
  process.kill(pid, 'SIGKILL');
  const end = await ended;
  assert.equal(end.kind, 'ended');
  assert.equal(end.kind === 'ended' && end.status, 'crashed');
  assert.ok(end.kind === 'ended' && end.lastLog.some((l) => l.startsWith('step ')), 'the crash report carries the worker log tail');
  attach.dispose();

  // run.json still says running; the supervisor knows better, and nothing was lost.
  const crashed = await inspectRun(runDir);
  assert.equal(crashed.status, 'running');
  assert.equal(crashed.effective, 'crashed');
  const before = readFileSync(join(runDir, 'events', 'metrics.jsonl'), 'utf8');
  const lastStep = crashed.step ?? 0;

  const pid2 = await spawnDetached({ command: process.execPath, args: [fixture, 'resume', runDir], runDir });
  started.push(pid2);
  const resumed = new RunAttachment(runDir, { pid: pid2 });
  const s = await resumed.start();
  assert.equal(s.kind, 'connected');
  await until('a step after the crash', async () => ((await inspectRun(runDir)).step ?? 0) > lastStep || undefined);
  const after = readFileSync(join(runDir, 'events', 'metrics.jsonl'), 'utf8');
  assert.ok(after.startsWith(before), 'resume appends; the events written before the crash are intact');
  const steps = (await readRange<Record<string, unknown>>(join(runDir, 'events', 'metrics.jsonl'), 0, 8 << 20)).lines.map(
    (l) => l.record.step,
  );
  assert.deepEqual(
    steps,
    steps.map((_, i) => i + 1),
    'no step is repeated or skipped across the crash',
  );
  assert.ok(readFileSync(join(runDir, 'worker.log'), 'utf8').includes(`fixture worker ${pid2} resume`));
  resumed.dispose();
  process.kill(pid2, 'SIGKILL');
});

test('a worker that dies before writing run.json ends as crashed with its error output', async () => {
  const runDir = join(root, 'run-c');
  const pid = await spawnDetached({ command: process.execPath, args: [fixture, 'bogus'], runDir });
  const attach = new RunAttachment(runDir, { pid, retryMs: 50 });
  const end = await attach.start();
  assert.equal(end.kind === 'ended' && end.status, 'crashed');
  assert.ok(end.kind === 'ended' && end.lastLog.some((l) => l.includes('usage: protocol-worker.mjs')));
  attach.dispose();
});
