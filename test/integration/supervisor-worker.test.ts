// Supervision of the real worker (the `ivgr train` / `ivgr resume` commands with the tiny built-in
// model on CPU): started detached by a client that exits, re-attached, paused and resumed over the
// control socket; kill -9 shows as crashed and `resume` continues with nothing lost; stop ends clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnDetached, workerArgs } from '../../src/run/detached-worker';
import { isPidAlive } from '../../src/run/process-state';
import { RunAttachment, type ConnectionState } from '../../src/run/run-attachment';
import { inspectRun } from '../../src/run/run-state';
import { until as pollUntil } from './fixtures/until';
import { listCheckpoints } from '../../src/run/checkpoints';
import { scratch } from './fixtures/scratch';

const repo = resolve(import.meta.dirname, '..', '..');
const entry = join(import.meta.dirname, 'fixtures', 'worker-cli.ts');
const { root, started } = scratch('ivgr-worker-sup-');
/** Node flags that run the TypeScript worker entry directly. */
const node = ['--import', 'tsx'];

const config = join(root, 'cfg.yaml');
writeFileSync(
  config,
  `name: sup
model: builtin:tiny
dataset: { path: data }
synthetic: { seed: 3, counts: { train: 8, val: 4, test: 4 }, size: 112 }
streams:
  grounded: { groupSize: 2 }
  textual: { groupSize: 2 }
batchSize: 1
maxTokens: 8
steps: 1000
checkpointEvery: 2
`,
);

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 200 });
const stepAtLeast = (runDir: string, n: number) => until(`step ${n}`, async () => ((await inspectRun(runDir)).step ?? 0) >= n || undefined);
function ended(a: RunAttachment): Promise<Extract<ConnectionState, { kind: 'ended' }>> {
  return new Promise((res) => {
    const off = a.onState((s) => {
      if (s.kind !== 'ended') return;
      off();
      res(s);
    });
  });
}

test(
  'the real worker survives its starter, is re-attached, crashes on kill -9 and resumes without loss',
  { timeout: 420_000 },
  async () => {
    const runDir = join(root, 'runs', 'r1');
    const out = execFileSync(
      process.execPath,
      [...node, join(import.meta.dirname, 'fixtures', 'spawn-and-exit.ts'), runDir, ...node, ...workerArgs.train(entry, config, runDir)],
      { cwd: repo, encoding: 'utf8' },
    );
    const pid = Number(out.trim());
    started.push(pid);
    await stepAtLeast(runDir, 2);
    const first = await inspectRun(runDir);
    assert.equal(first.pid, pid, 'run.json names the detached worker');
    assert.equal(first.effective, 'running');

    const a = new RunAttachment(runDir);
    const s = await a.start();
    assert.equal(s.kind === 'connected' && s.status.pid, pid);
    a.send({ type: 'pause' });
    await a.connection?.waitFor((m) => m.type === 'status' && m.status.status === 'paused', 60_000);
    a.dispose();
    await until('run.json to say paused', async () => ((await inspectRun(runDir)).effective === 'paused' ? true : undefined), 10_000);

    // A second client (a reloaded window) finds the paused worker and resumes it.
    const b = new RunAttachment(runDir);
    const s2 = await b.start();
    assert.equal(s2.kind === 'connected' && s2.status.status, 'paused');
    b.send({ type: 'resume' });
    await b.connection?.waitFor((m) => m.type === 'status' && m.status.status === 'running', 60_000);
    await until('a checkpoint', async () => (listCheckpoints(runDir).some((c) => c.step >= 2) ? true : undefined));

    const crash = ended(b);
    process.kill(pid, 'SIGKILL');
    const end = await crash;
    assert.equal(end.status, 'crashed');
    assert.ok(end.lastLog.length > 0, 'the crash carries the last lines of worker.log');
    b.dispose();
    assert.equal((await inspectRun(runDir)).effective, 'crashed');
    const eventsBefore = readFileSync(join(runDir, 'events', 'metrics.jsonl'), 'utf8');
    const stepBefore = (await inspectRun(runDir)).step ?? 0;

    // `ivgr resume` refuses while the old pid still answers kill(0): wait until the killed worker
    // (a zombie until its new parent reaps it) is gone.
    await until(
      'the killed worker to be reaped',
      async () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      30_000,
    );
    const pid2 = await spawnDetached({
      command: process.execPath,
      args: [...node, ...workerArgs.resume(entry, runDir)],
      runDir,
      cwd: repo,
    });
    started.push(pid2);
    const c = new RunAttachment(runDir, { pid: pid2 });
    const s3 = await c.start();
    assert.equal(s3.kind === 'connected' && s3.status.pid, pid2, JSON.stringify(s3));
    await stepAtLeast(runDir, stepBefore + 1);
    assert.ok(
      readFileSync(join(runDir, 'events', 'metrics.jsonl'), 'utf8').startsWith(eventsBefore),
      'events written before the crash are intact',
    );

    const stop = ended(c);
    c.send({ type: 'stop' });
    const stopped = await stop;
    assert.equal(stopped.status, 'stopped');
    const last = listCheckpoints(runDir).at(-1);
    assert.ok(last && last.step >= ((await inspectRun(runDir)).step ?? 0), 'stop writes a checkpoint at the last step');
    assert.ok(!existsSync(join(runDir, 'control.sock')) || !isPidAlive(pid2));
    c.dispose();
  },
);
