// Workspace trust as a user meets it: in an untrusted workspace the commands that start a process
// (training, resume from a checkpoint, evaluation) start none and say why; opening a run still works.
// The "worker" the commands would start is a script that logs its arguments, so a start shows.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { fake } from './fakes/use-fake-vscode';
import type { RunView } from '../../src/extension/run-display';
import type { Services } from '../../src/extension/commands';

const { registerCommands } = await import('../../src/extension/commands');
const { workspace } = await import('./fakes/vscode');

const work = mkdtempSync(join(tmpdir(), 'ivgr-trust-'));
after(() => rmSync(work, { recursive: true, force: true }));

// The extension folder: dist/cli.js stands in for the worker and appends its argv to started.jsonl.
const extension = join(work, 'extension');
const started = join(extension, 'started.jsonl');
mkdirSync(join(extension, 'dist'), { recursive: true });
writeFileSync(
  join(extension, 'dist', 'cli.js'),
  `require('node:fs').appendFileSync(${JSON.stringify(started)}, JSON.stringify(process.argv.slice(2)) + '\\n');\n`,
);
writeFileSync(join(extension, 'package.json'), '{"type": "commonjs"}\n');

const runsRoot = join(work, 'ws', 'runs');
const runDir = join(runsRoot, 'demo');
mkdirSync(join(runDir, 'checkpoints', '10'), { recursive: true });
writeFileSync(join(runDir, 'run.json'), JSON.stringify({ id: 'demo', status: 'stopped', config: { dataset: { path: 'data' } } }));
const view: RunView = {
  id: 'demo',
  dir: runDir,
  name: 'demo',
  status: 'stopped',
  step: 10,
  totalSteps: 20,
  phase: null,
  reward: {},
  checkpoints: [10],
  evals: [],
  lastLog: [],
  imported: false,
  attached: false,
};
workspace.workspaceFolders = [{ uri: { fsPath: join(work, 'ws') } }];

const opened: string[] = [];
const followed: string[] = [];
/** The run of the focused run panel, as PanelHost reports it. */
let focusedPanel: string | undefined;
const services = {
  context: { asAbsolutePath: (p: string) => join(extension, p) },
  registry: {
    get: (dir: string) => (dir === runDir ? view : undefined),
    all: () => [view],
    refresh: () => Promise.resolve(),
    addFolder: () => undefined,
    problems: () => new Map<string, string>(),
    isAttached: () => false,
    follow: (dir: string) => {
      followed.push(dir);
      return Promise.resolve({ kind: 'ended', status: 'stopped', lastLog: [] });
    },
  },
  logs: {
    channel: () => Promise.resolve({ info: () => undefined, warn: () => undefined, error: () => undefined }),
    show: () => Promise.resolve(),
  },
  statusBar: { focus: () => undefined },
  panels: {
    open: (dir: string) => {
      opened.push(dir);
      return Promise.resolve();
    },
    activeRun: () => focusedPanel,
  },
} as unknown as Services;
registerCommands(services);

const run = (id: string, arg?: unknown): Promise<unknown> => {
  const handler = fake.handlers.get(id);
  assert.ok(handler, `${id} is registered`);
  return Promise.resolve(handler(arg));
};

const startedArgs = (): string[][] =>
  existsSync(started)
    ? readFileSync(started, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as string[])
    : [];

async function waitForStarts(n: number): Promise<string[][]> {
  for (let i = 0; i < 200 && startedArgs().length < n; i++) await new Promise((r) => setTimeout(r, 25));
  return startedArgs();
}

describe('untrusted workspace', () => {
  beforeEach(() => {
    fake.reset();
    fake.trusted = false;
  });

  for (const [id, title, arg] of [
    ['ivgr.startRun', 'Start Training Run', undefined],
    ['ivgr.resumeRun', 'Resume Run', runDir],
    ['ivgr.evaluateCheckpoint', 'Evaluate Checkpoint', runDir],
  ] as const) {
    it(`${title} starts no process and says why`, async () => {
      await run(id, arg);
      const warnings = fake.shown.filter((m) => m.kind === 'warning');
      assert.equal(warnings.length, 1);
      assert.equal(
        warnings[0]!.message,
        `iVGR: ${title} starts a process, which an untrusted workspace does not allow. Runs can still be opened and read.`,
      );
      assert.deepEqual(warnings[0]!.items, ['Manage Workspace Trust']);
      // Refused before any question: no config, checkpoint or mode picker, no progress notification.
      assert.deepEqual(fake.quickPicks, []);
      assert.deepEqual(fake.progress, []);
      assert.equal(existsSync(join(runDir, 'worker.log')), false);
      assert.equal(existsSync(runsRoot) && readdirSync(runsRoot).some((d) => d !== 'demo'), false, 'no new run folder');
      assert.deepEqual(followed, []);
    });
  }

  it('Open Run still opens the run panel', async () => {
    await run('ivgr.openRun', runDir);
    assert.deepEqual(opened, [runDir]);
    assert.deepEqual(fake.shown, []);
  });
});

describe('trusted workspace', () => {
  beforeEach(() => fake.reset());

  it('Resume Run and Evaluate Checkpoint start the worker; nothing else ever started one', async () => {
    await run('ivgr.resumeRun', runDir);
    assert.deepEqual(followed, [runDir]);
    await run('ivgr.evaluateCheckpoint', runDir);
    assert.deepEqual(
      fake.progress.map((p) => p.cancellable),
      [true],
    );
    // Every start this file ever caused, the untrusted attempts above included: only these two
    // (in either order: two processes record their own start).
    assert.deepEqual(
      (await waitForStarts(2)).sort((a, b) => a[0]!.localeCompare(b[0]!)),
      [
        ['eval', join(runDir, 'checkpoints', '10'), '--split', 'val', '--mode', 'textual,grounded,tool', '--engine', 'torch'],
        ['resume', runDir],
      ],
    );
    assert.equal(fake.shown.filter((m) => m.kind === 'warning').length, 0);
  });
});

describe('a command from the palette while a run panel is focused', () => {
  beforeEach(() => fake.reset());
  after(() => (focusedPanel = undefined));

  it("acts on the panel's run without asking which", async () => {
    focusedPanel = runDir;
    await run('ivgr.stopRun');
    assert.deepEqual(fake.quickPicks, []);
    assert.equal(fake.shown.find((m) => m.kind === 'warning')?.message, 'Stop demo at step 10?');
  });
});
