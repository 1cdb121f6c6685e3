/**
 * `npm run studio` without a browser: on a free port with an empty temporary workspace it prints
 * the URL, code-server answers it, a run with the built-in tiny model is started in the workspace,
 * and SIGTERM stops code-server and that run. Skips when code-server is not installed
 * (`node scripts/code-server.mjs install`), except under CI, which installs it.
 */
import { after, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { codeServerEntry, freePort } from '../../scripts/code-server.mjs';
import { isPidAlive } from '../../src/run/process-state';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const installed = codeServerEntry() !== null;
const MISSING = 'code-server is not installed: run `node scripts/code-server.mjs install` (CI does it in .ci/run)';
if (!installed && process.env.CI) {
  test('code-server is installed for the studio test', () => assert.fail(MISSING));
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number, context: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs / 1000} s; studio output:\n${context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm run studio', { skip: installed ? false : MISSING, timeout: 4 * 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'ivgr-studio-'));
  const workspace = join(root, 'workspace');
  mkdirSync(workspace);
  let studio: ChildProcess | undefined;
  let workerPid: number | undefined;

  after(() => {
    // Whatever the test left running: the studio's process group and the detached worker.
    if (studio?.pid !== undefined && studio.exitCode === null && studio.signalCode === null) process.kill(-studio.pid, 'SIGKILL');
    if (workerPid !== undefined && isPidAlive(workerPid)) process.kill(workerPid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('serves code-server with a tiny run started in an empty workspace and stops both on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'scripts', 'studio.mjs'), '--port', String(port), '--folder', workspace, '--state-dir', join(root, 'state')],
      {
        cwd: repoRoot,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    studio = child;
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
    const tail = () => output.slice(-4000);

    const url = await until(
      'the studio URL',
      () => new RegExp(`http://127\\.0\\.0\\.1:${port}/\\?folder=\\S+`).exec(output)?.[0],
      150_000,
      tail,
    );
    assert.equal(new URL(url).searchParams.get('folder'), workspace);
    const res = await fetch(url);
    assert.equal(res.status, 200, `GET ${url}`);
    assert.match(await res.text(), /<html/i);

    const runsDir = join(workspace, 'runs');
    const runs = readdirSync(runsDir);
    assert.equal(runs.length, 1, `one run in ${runsDir}: ${runs.join(', ')}`);
    const runDir = join(runsDir, runs[0]!);
    assert.match(runs[0]!, /^studio-/);
    assert.ok(output.includes(`with ${runDir} open`), tail());
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { pid: number | null; config: { model: string } };
    assert.equal(run.config.model, 'builtin:ivgr-tiny');
    assert.ok(run.pid !== null && isPidAlive(run.pid), 'the run is training');
    workerPid = run.pid;

    process.kill(-child.pid!, 'SIGTERM');
    assert.equal(await exited, 0, tail());
    await assert.rejects(fetch(url), 'code-server no longer answers');
    await until(
      'the started run to stop',
      () => (isPidAlive(run.pid!) ? undefined : true),
      90_000,
      () => (existsSync(join(runDir, 'worker.log')) ? readFileSync(join(runDir, 'worker.log'), 'utf8').slice(-2000) : 'no worker.log'),
    );
    const status = (JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { status: string }).status;
    assert.equal(status, 'stopped');
  });
});
