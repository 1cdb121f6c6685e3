// `trainer: trl`: iVGR on TRL's GRPOTrainer under `accelerate launch`, on CPU with the built-in
// tiny model. The run folder it writes is read here through src/run as the panel reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/run/checkpoints';
import { readAll } from '../../src/run/jsonl-reader';
import { RolloutQueryService } from '../../src/run/rollout-query';
import { summarizeRun } from '../../src/run/run-list';
import type { MetricsRecord, RolloutRecord } from '../../src/core/types';
import { scratch } from './fixtures/scratch';

const { root: work } = scratch('ivgr-trl-');

const CLI = join('dist', 'cli.js');
const skip = existsSync(join('.venv', 'bin', 'python')) || process.env.IVGR_PYTHON ? false : 'no Python environment';

function config(dir: string, name: string, extra: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'model: builtin:tiny',
      'dataset: { path: data }',
      'synthetic: { seed: 7, counts: { train: 4, val: 2, test: 2 }, size: 112 }',
      'streams: { grounded: { groupSize: 2 }, textual: { groupSize: 2 } }',
      'batchSize: 2',
      'maxTokens: 12',
      'steps: 2',
      'checkpointEvery: 1',
      'trainer: trl',
      extra,
    ].join('\n') + '\n',
  );
  return file;
}

function ivgr(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ivgr ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

async function rollouts(runDir: string): Promise<RolloutRecord[]> {
  return (await readAll<RolloutRecord>(join(runDir, 'events', 'rollouts.jsonl'))).records;
}

test(
  'a TRL run stops with a checkpoint, resumes from it, streams rollouts and metrics the panel reads, and its checkpoints evaluate in three modes',
  { skip },
  async () => {
    const dir = mkdtempSync(join(work, 'one-'));
    const runDir = join(dir, 'runs', 'one');
    ivgr('train', config(dir, 'one', 'batchOrder: answer-balanced'), '--runs-dir', join(dir, 'runs'), '--run-id', 'one', '--until', '1');
    assert.equal(summarizeRun(runDir).status, 'stopped');
    const rows = (await readAll<{ question: string; stratum?: string }>(join(runDir, 'trl', 'train.jsonl'))).records;
    assert.ok(
      rows.length === 8 && rows.every((r) => typeof r.stratum === 'string' && r.stratum.length > 0),
      'answer-balanced rows carry the answer each question is balanced by',
    );
    assert.deepEqual(
      listCheckpoints(runDir).map((c) => [c.step, c.state.trainer]),
      [[1, 'trl']],
    );

    ivgr('resume', runDir);
    const summary = summarizeRun(runDir);
    assert.deepEqual([summary.status, summary.step, summary.latestCheckpoint], ['finished', 2, 2]);

    const records = await rollouts(runDir);
    // Each step: 2 questions × 2 streams × 2 samples, a question's two streams in the same step.
    assert.deepEqual(
      records.map((r) => r.step),
      [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2],
    );
    for (const step of [1, 2]) {
      const mine = records.filter((r) => r.step === step);
      for (const q of new Set(mine.map((r) => r.promptId)))
        assert.deepEqual(
          mine.filter((r) => r.promptId === q).map((r) => r.stream),
          ['grounded', 'grounded', 'textual', 'textual'],
        );
    }
    for (const r of records) {
      assert.deepEqual(
        Object.keys(r.rewards).sort(),
        r.stream === 'grounded' ? ['accuracy', 'format', 'grounding', 'tool'] : ['accuracy', 'consistency', 'format'],
      );
      assert.ok(Number.isFinite(r.advantage) && Array.isArray(r.boxes) && r.image?.startsWith('images/'), JSON.stringify(r));
      assert.ok(existsSync(join(dir, 'data', r.image!)));
    }
    const metrics = (await readAll<MetricsRecord>(join(runDir, 'events', 'metrics.jsonl'))).records;
    assert.deepEqual(
      metrics.map((m) => m.step),
      [1, 2],
    );
    assert.ok(metrics.every((m) => m.reward.grounded !== undefined && m.reward.textual !== undefined && Number.isFinite(m.gradNorm)));

    const query = new RolloutQueryService(runDir);
    assert.equal((await query.refresh()).total, 16);

    const table = JSON.parse(ivgr('eval', runDir, '--mode', 'textual,grounded,tool', '--split', 'test', '--limit', '2', '--json')) as {
      rows: Array<{ checkpoint: string; mode: string; n: number }>;
    };
    assert.deepEqual(
      table.rows.map((r) => [r.checkpoint, r.mode, r.n]),
      [
        ['step-2', 'textual', 2],
        ['step-2', 'grounded', 2],
        ['step-2', 'tool', 2],
      ],
    );
  },
);

test('a two-process accelerate launch (gloo) trains two steps with both processes generating', { skip }, async () => {
  const dir = mkdtempSync(join(work, 'two-'));
  const runDir = join(dir, 'runs', 'two');
  ivgr('train', config(dir, 'two', 'trl: { processes: 2, distributed: ddp }'), '--runs-dir', join(dir, 'runs'), '--run-id', 'two');
  assert.deepEqual([summarizeRun(runDir).status, summarizeRun(runDir).step], ['finished', 2]);
  const records = await rollouts(runDir);
  // One question per process per step; the main process records both.
  for (const step of [1, 2]) assert.equal(new Set(records.filter((r) => r.step === step).map((r) => r.promptId)).size, 2);
  assert.equal(records.length, 16);
});
