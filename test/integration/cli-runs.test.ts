// The `ivgr` command line as real processes (src/cli/main.ts under tsx) on a scripted engine
// process (fixtures/scripted-engine.mjs passed as --python), so no model is needed: Ctrl-C
// during `ivgr train` pauses with a checkpoint and `ivgr resume` continues it, `ivgr eval --json`,
// `ivgr eval --dataset` beside a full evaluation, `ivgr runs`, `ivgr import` of verl and TRL
// dumps, the zoom-call cap of the tool mode, and the plain progress lines a run writes when
// stderr is not a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalRecord, RolloutRecord } from '../../src/core/types';
import { listCheckpoints } from '../../src/run/checkpoints';
import { readAll } from '../../src/run/jsonl-reader';
import { readRunJson } from '../../src/run/run-dir';
import { listRuns } from '../../src/run/run-list';
import { RolloutQueryService } from '../../src/run/rollout-query';
import { ensureSyntheticDataset } from '../../src/data';
import { SCRIPTED_ENGINE as engine, writeScriptedConfig } from './fixtures/scripted-config';
import { cliProcesses, type CliProcess } from './fixtures/cli-process';
import { scratch } from './fixtures/scratch';

const { root } = scratch('ivgr-cli-runs-');
const runs = join(root, 'runs');
const config = writeScriptedConfig(
  root,
  'cli',
  `batchSize: 2
steps: 4
checkpointEvery: 0
sft: { steps: 6, batchSize: 4 }
maxToolCalls: 2
`,
);

type Proc = CliProcess;
const ivgr = cliProcesses();

async function ok(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  const p = ivgr(args, env);
  const code = await p.exit;
  assert.equal(code, 0, `ivgr ${args.join(' ')} exited ${code}:\n${p.stderr()}`);
  return { stdout: p.stdout(), stderr: p.stderr() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, probe: () => boolean, p: Proc, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (p.child.exitCode !== null) throw new Error(`the worker exited (${p.child.exitCode}) before ${what}:\n${p.stderr()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${p.stderr()}`);
    await sleep(50);
  }
}
const statusOf = (dir: string) => {
  try {
    return readRunJson(dir).status;
  } catch {
    return undefined;
  }
};
const rolloutsOf = async (dir: string) =>
  (await readAll<RolloutRecord>(join(dir, 'events', 'rollouts.jsonl'))).records.map(({ time: _t, ...r }) => r);
const train = (id: string, env: Record<string, string> = {}) =>
  ivgr(['train', config, '--runs-dir', runs, '--run-id', id, '--python', engine], env);
/** A slowed-down run given Ctrl-C once `reached` holds, and paused. */
const pausedRun = async (id: string, what: string, reached: (stderr: string) => boolean) => {
  const dir = join(runs, id);
  const p = train(id, { SCRIPTED_ENGINE_DELAY_MS: '150' });
  await until(what, () => reached(p.stderr()), p);
  p.child.kill('SIGINT');
  await until('run.json to say paused', () => statusOf(dir) === 'paused', p);
  return { dir, p };
};

const baseline = join(runs, 'baseline');
/** The run finished with the uninterrupted baseline's rollouts. */
const finishedAsBaseline = async (dir: string): Promise<void> => {
  assert.equal(readRunJson(dir).status, 'finished');
  assert.deepEqual(await rolloutsOf(dir), await rolloutsOf(baseline));
};
let baselineStderr = '';

test('ivgr train runs to the end with plain progress lines when stderr is not a terminal', { timeout: 120_000 }, async () => {
  const p = train('baseline');
  assert.equal(await p.exit, 0, p.stderr());
  baselineStderr = p.stderr();
  assert.equal(p.stdout().trim(), baseline);
  assert.equal(readRunJson(baseline).status, 'finished');
  const lines = baselineStderr.split('\n');
  for (let i = 1; i <= 6; i++) assert.ok(lines.includes(`warm start ${i}/6`), `warm start ${i}/6 in:\n${baselineStderr}`);
  for (let i = 1; i <= 4; i++)
    assert.ok(
      lines.some((l) => new RegExp(`^train ${i}/4 reward g=\\d\\.\\d{3} t=\\d\\.\\d{3}$`).test(l)),
      `train ${i}/4 in:\n${baselineStderr}`,
    );
  assert.ok(!baselineStderr.includes('\r') && !baselineStderr.includes('\x1b'), 'no carriage returns or escape sequences off a terminal');
  assert.equal((await rolloutsOf(baseline)).length, 4 * 2 * (2 + 2));
});

test(
  'Ctrl-C inside the warm start pauses with a checkpoint; ivgr resume continues it to the same result',
  { timeout: 120_000 },
  async () => {
    const { dir, p } = await pausedRun('paused', 'the second SFT step', (stderr) => stderr.includes('warm start 2/6'));
    assert.match(p.stderr(), /pausing at the end of this step \(Ctrl-C again stops\)/);
    const [ck] = listCheckpoints(dir);
    assert.equal(ck?.step, 0);
    assert.equal(ck?.state.phase, 'sft');
    const done = ck!.state.warmStart!.done;
    assert.ok(done >= 2 && done < 6, `paused after SFT step ${done}`);
    // run.json says paused before the worker logs it, so the line may follow a moment later.
    const pausedLine = `paused in the warm start after SFT step ${done}/6 with a checkpoint`;
    await until('the pause line in worker.log', () => readFileSync(join(dir, 'worker.log'), 'utf8').includes(pausedLine), p, 10_000);

    const r = await ok(['resume', dir]);
    assert.match(r.stderr, /resumed the paused worker/);
    assert.equal(await p.exit, 0, p.stderr());
    await finishedAsBaseline(dir);
  },
);

test(
  'a second Ctrl-C stops with a checkpoint; ivgr resume starts a worker that finishes the run as an uninterrupted one',
  { timeout: 120_000 },
  async () => {
    const { dir, p } = await pausedRun('stopped', 'the first RL step', (stderr) => /^train 1\/4/m.test(stderr));
    p.child.kill('SIGINT');
    assert.equal(await p.exit, 0, p.stderr());
    assert.match(p.stderr(), /stopping at the end of this step/);
    const run = readRunJson(dir);
    assert.equal(run.status, 'stopped');
    assert.ok(
      listCheckpoints(dir).some((c) => c.step === run.step && c.state.phase === 'rl'),
      'a checkpoint at the step it stopped at',
    );

    const r = await ok(['resume', dir, '--python', engine]);
    assert.match(r.stderr, new RegExp(`continuing from checkpoint ${run.step}`));
    await finishedAsBaseline(dir);
  },
);

test(
  'ivgr eval --json prints eval-summary.json; the tool mode ends a sample at maxToolCalls zoom calls',
  { timeout: 120_000 },
  async () => {
    const { stdout } = await ok(['eval', baseline, '--json', '--mode', 'textual,tool', '--split', 'test', '--python', engine]);
    const printed: unknown = JSON.parse(stdout);
    assert.deepEqual(printed, JSON.parse(readFileSync(join(baseline, 'eval-summary.json'), 'utf8')));
    const rows = (printed as { rows: Array<{ checkpoint: string; mode: string; n: number }> }).rows;
    assert.deepEqual(
      rows.map((r) => [r.checkpoint, r.mode, r.n]).sort(),
      [
        ['step-4', 'textual', 3],
        ['step-4', 'tool', 3],
      ].sort(),
    );

    const tool = (await readAll<EvalRecord>(join(baseline, 'events', 'eval.jsonl'))).records.filter((r) => r.mode === 'tool');
    assert.equal(tool.length, 3);
    for (const r of tool) {
      assert.equal(r.toolCalls, 2, 'the scripted model asks for a zoom on every turn; the cap stops it');
      assert.equal(r.answer, null);
      assert.equal(r.correct, false);
      assert.equal((r.output.match(/Zoomed view of \[0,0,32,32\]/g) ?? []).length, 2);
    }
  },
);

test(
  'ivgr eval --dataset and a full evaluation of the same checkpoint stay apart in eval-summary.json and the table',
  { timeout: 120_000 },
  async () => {
    const cfg = join(root, 'two-datasets.yaml');
    writeFileSync(
      cfg,
      `name: two
model: scripted
datasets: [{ path: data-one, name: one }, { path: data-two, name: two }]
synthetic: { seed: 5, counts: { train: 2, val: 1, test: 2 }, size: 112 }
batchSize: 2
steps: 1
checkpointEvery: 0
sft: { steps: 0 }
`,
    );
    await ensureSyntheticDataset(join(root, 'data-two'), {
      seed: 6,
      counts: { train: 2, val: 1, test: 3 },
      size: 112,
      convention: 'qwen2-1000',
    });
    await ok(['train', cfg, '--runs-dir', runs, '--run-id', 'two', '--python', engine]);
    const dir = join(runs, 'two');
    const evalArgs = ['eval', dir, '--mode', 'textual', '--split', 'test', '--python', engine];
    const one = await ok([...evalArgs, '--dataset', 'two']);
    assert.match(one.stdout, /^checkpoint\s+dataset\s+mode\s+engine\s+n\b/);
    assert.match(one.stdout, /\nstep-1\s+two\s+textual\s+torch\s+3\s/);
    const all = await ok(evalArgs);
    assert.match(all.stdout, /\nstep-1\s+all\s+textual\s+torch\s+5\s/);
    assert.match(all.stdout, /\nstep-1\s+two\s+textual\s+torch\s+3\s/);
    const summary = JSON.parse(readFileSync(join(dir, 'eval-summary.json'), 'utf8')) as {
      rows: Array<{ checkpoint: string; dataset?: string; n: number }>;
    };
    assert.deepEqual(
      summary.rows.map((r) => [r.checkpoint, r.dataset ?? 'all', r.n]),
      [
        ['step-1', 'all', 5],
        ['step-1', 'two', 3],
      ],
    );
    const records = (await readAll<EvalRecord>(join(dir, 'events', 'eval.jsonl'))).records;
    assert.deepEqual(
      records.map((r) => r.dataset ?? 'all'),
      ['two', 'two', 'two', 'all', 'all', 'all', 'all', 'all'],
    );

    // A run with one dataset keeps its table and records as they were.
    const single = await ok(['eval', baseline, '--mode', 'textual', '--split', 'test', '--python', engine]);
    assert.match(single.stdout, /^checkpoint\s+mode\s+engine\s+n\b/);
    assert.ok((await readAll<EvalRecord>(join(baseline, 'events', 'eval.jsonl'))).records.every((r) => !('dataset' in r)));
  },
);

test('ivgr runs lists every run with its status, a dead worker as crashed', { timeout: 60_000 }, async () => {
  const dead = join(runs, 'dead');
  await ok(['import', writeDump('ok.jsonl', [JSON.stringify({ input: 'Q', output: 'x', score: 1, step: 1 })]), '--out', dead]);
  const json = JSON.parse(readFileSync(join(dead, 'run.json'), 'utf8')) as Record<string, unknown>;
  // A pid far above any pid_max: no process has it.
  writeFileSync(join(dead, 'run.json'), JSON.stringify({ ...json, status: 'running', pid: 2 ** 30 }));

  const { stdout } = await ok(['runs', '--runs-dir', runs]);
  const table = stdout.trim().split('\n');
  assert.match(table[0]!, /^id\s+status\s+step\s+checkpoint\s+updated$/);
  const row = (id: string) => table.find((l) => l.startsWith(`${id} `))?.split(/\s+/);
  assert.deepEqual(row('baseline')?.slice(0, 4), ['baseline', 'finished', '4/4', '4']);
  assert.deepEqual(row('stopped')?.slice(0, 3), ['stopped', 'finished', '4/4']);
  assert.deepEqual(row('dead')?.slice(0, 2), ['dead', 'crashed']);

  const listed = JSON.parse((await ok(['runs', '--runs-dir', runs, '--json'])).stdout) as Array<{ id: string; status: string }>;
  assert.deepEqual(
    Object.fromEntries(listed.map((r) => [r.id, r.status])),
    Object.fromEntries(listRuns(runs).map((r) => [r.id, r.status])),
  );
  assert.equal(listed.find((r) => r.id === 'dead')?.status, 'crashed');
});

function writeDump(name: string, lines: string[]): string {
  const file = join(root, name);
  writeFileSync(file, lines.join('\n'));
  return file;
}

test(
  'ivgr import turns verl and TRL dumps into run folders the readers open; a torn last line is skipped, a bad line named',
  { timeout: 60_000 },
  async () => {
    const verl = writeDump('verl.jsonl', [
      JSON.stringify({ input: 'Q1', output: '<think>a</think><answer>A</answer>', score: 1, step: 1 }),
      JSON.stringify({ input: 'Q1', output: '<think>b</think><answer>B</answer>', score: 0, step: 1 }),
      JSON.stringify({ input: 'Q2', output: 'look <box>[1,2,3,4]</box><answer>C</answer>', score: 0.5, step: 2 }),
      '{"input": "Q2", "output": "cut sho',
    ]);
    const out = join(root, 'imported', 'verl');
    const r = await ok(['import', verl, '--out', out]);
    assert.equal(r.stdout.trim(), out);
    assert.ok(r.stderr.includes(`imported 3 rollouts over 2 steps (verl); skipped the torn last line ${verl}:4`), r.stderr);
    const q = new RolloutQueryService(out);
    assert.deepEqual(await q.refresh(), { added: 3, total: 3 });
    const page = await q.query({}, { key: 'step', dir: 'asc' }, 0, 10);
    assert.deepEqual(
      page.rows.map((row) => [row.step, row.stream]),
      [
        [1, 'textual'],
        [1, 'textual'],
        [2, 'grounded'],
      ],
    );
    assert.equal((await q.query({ correct: true }, { key: 'step', dir: 'asc' }, 0, 10)).total, 2);
    assert.equal(readRunJson(out).status, 'finished');

    const trl = writeDump('trl.jsonl', [
      JSON.stringify({
        step: 3,
        prompt: [{ role: 'user', content: 'hi' }],
        completion: '<answer>A</answer>',
        accuracy_reward: 1,
        format_reward: 0.5,
        advantage: 0.7,
      }),
      JSON.stringify({
        step: 3,
        prompt: [{ role: 'user', content: 'hi' }],
        completion: '<answer>B</answer>',
        accuracy_reward: 0,
        format_reward: 0.5,
        advantage: -0.7,
      }),
    ]);
    const trlOut = join(root, 'imported', 'trl');
    assert.match((await ok(['import', trl, '--out', trlOut])).stderr, /imported 2 rollouts over 1 steps \(trl\)$/m);
    const t = new RolloutQueryService(trlOut);
    await t.refresh();
    const best = await t.query({}, { key: 'score', dir: 'desc' }, 0, 1);
    const record = await t.get(best.rows[0]!.id);
    assert.equal(record?.input, 'user: hi');
    assert.equal(record?.advantage, 0.7);
    assert.equal(record?.rewards.accuracy?.value, 1);

    const bad = writeDump('bad.jsonl', [
      JSON.stringify({ input: 'Q', output: 'x', score: 1, step: 1 }),
      '{not json',
      JSON.stringify({ input: 'Q', output: 'y', score: 0, step: 1 }),
    ]);
    const p = ivgr(['import', bad, '--out', join(root, 'imported', 'bad')]);
    assert.equal(await p.exit, 2);
    assert.match(p.stderr(), new RegExp(`ivgr import: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not valid JSON`));
    assert.equal(existsSync(join(root, 'imported', 'bad')), false, 'nothing is written for a bad dump');
  },
);
