// Two windows on one run: the real worker (`ivgr train` on the scripted engine, so no model is
// needed) with two clients attached over the control socket at the same time. Both get the live
// events, a pause sent by one is seen as paused by both, and one detaching leaves the other
// attached: it still resumes the run, gets its events and stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import type { WorkerMessage } from '../../src/core/protocol/control';
import { SCRIPTED_ENGINE as engine, writeScriptedConfig } from './fixtures/scripted-config';
import { until as pollUntil } from './fixtures/until';
import { spawnDetached, workerArgs } from '../../src/run/detached-worker';
import { RunAttachment, type ConnectionState } from '../../src/run/run-attachment';
import { inspectRun } from '../../src/run/run-state';
import { scratch } from './fixtures/scratch';

const repo = resolve(import.meta.dirname, '..', '..');
const entry = join(import.meta.dirname, 'fixtures', 'worker-cli.ts');
const attachments: RunAttachment[] = [];
const { root, started } = scratch('ivgr-worker-clients-', () => {
  for (const a of attachments) a.dispose();
});
/** Node flags that run the TypeScript worker entry directly. */
const node = ['--import', 'tsx'];

const config = writeScriptedConfig(
  root,
  'two-windows',
  `batchSize: 1
steps: 1000
checkpointEvery: 0
`,
);

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 50 });

/** A client and the offsets of the metrics events it has received live. */
function attach(runDir: string): { a: RunAttachment; metrics: number[]; states: ConnectionState['kind'][] } {
  const a = new RunAttachment(runDir);
  attachments.push(a);
  const metrics: number[] = [];
  const states: ConnectionState['kind'][] = [];
  a.onMessage((m: WorkerMessage) => {
    if (m.type === 'event' && m.file === 'metrics') metrics.push(m.offset);
  });
  a.onState((s) => states.push(s.kind));
  return { a, metrics, states };
}

const paused = (m: WorkerMessage): boolean => m.type === 'status' && m.status.status === 'paused';

test(
  'two clients attached at once share live events and pause, and one detaching leaves the other attached',
  { timeout: 180_000 },
  async () => {
    const runDir = join(root, 'runs', 'r1');
    const pid = await spawnDetached({
      command: process.execPath,
      args: [...node, ...workerArgs.train(entry, config, runDir), '--python', engine],
      runDir,
      cwd: repo,
      env: { ...process.env, SCRIPTED_ENGINE_DELAY_MS: '40' },
    });
    started.push(pid);
    await until('step 1', async () => ((await inspectRun(runDir)).step ?? 0) >= 1 || undefined);

    const one = attach(runDir);
    const two = attach(runDir);
    const [s1, s2] = await Promise.all([one.a.start(), two.a.start()]);
    assert.equal(s1.kind === 'connected' && s1.status.pid, pid);
    assert.equal(s2.kind === 'connected' && s2.status.pid, pid);

    // The same events reach both: an offset the second client saw after attaching, the first saw too.
    const shared = await until('a metrics event both clients received', () => two.metrics.find((o) => one.metrics.includes(o)));
    await until(
      'three more steps on both',
      () => (one.metrics.filter((o) => o > shared).length >= 3 && two.metrics.filter((o) => o > shared).length >= 3) || undefined,
    );
    const next = (c: { metrics: number[] }): number[] => c.metrics.filter((o) => o > shared).slice(0, 3);
    assert.deepEqual(next(one), next(two), 'both got the same steps in the same order');

    // A pause from the first is seen by both.
    const seenByOne = one.a.connection!.waitFor(paused, 30_000);
    const seenBySecond = two.a.connection!.waitFor(paused, 30_000);
    one.a.send({ type: 'pause' });
    await Promise.all([seenByOne, seenBySecond]);
    // The worker writes run.json before it tells its clients, so the folder already says paused.
    assert.equal((await inspectRun(runDir)).effective, 'paused');

    // The first detaches; the second stays connected and drives the run on.
    one.a.dispose();
    const before = two.metrics.length;
    two.a.send({ type: 'resume' });
    await two.a.connection!.waitFor((m) => m.type === 'status' && m.status.status === 'running', 30_000);
    await until('live events on the remaining client after resuming', () => (two.metrics.length >= before + 2 ? true : undefined));
    assert.deepEqual(
      two.states.filter((k) => k !== 'connected'),
      [],
      'the remaining client never lost its connection',
    );
    two.a.send({ type: 'ping' });
    await two.a.connection!.waitFor((m) => m.type === 'pong', 10_000);

    const ended = new Promise<ConnectionState>((res) => two.a.onState((s) => s.kind === 'ended' && res(s)));
    two.a.send({ type: 'stop' });
    const end = await ended;
    assert.equal(end.kind === 'ended' && end.status, 'stopped');
    two.a.dispose();
  },
);
