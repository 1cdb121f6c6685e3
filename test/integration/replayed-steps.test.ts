// After an engine restart or a worker killed and resumed, replayed steps are appended again: the rollout list, its counts,
// the live strip, a question's rollouts and the exports' reader show one attempt per step, the last, also after a reopen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RolloutRecord } from '../../src/core/types';
import { RolloutQueryService } from '../../src/run/rollout-query';
import { readLastAttempts } from '../../src/run/rollout-records';

const PROMPTS = ['q1', 'q2'];
const PER_STEP = PROMPTS.length * 2 * 2;

/** One attempt of a step as the worker writes it: every rollout stamped with the attempt's time, ids from the engine's call counter. */
function attempt(step: number, label: string, time: number, counter: number): RolloutRecord[] {
  return PROMPTS.flatMap((promptId, q) =>
    (['grounded', 'textual'] as const).flatMap((stream) =>
      [0, 1].map((sample) => ({
        v: 1 as const,
        id: `${step}:${q}:${stream}:${counter}:${sample}`,
        step,
        stream,
        promptId,
        sample,
        input: 'question',
        output: `<think>${label}</think><answer>A</answer>`,
        score: 1,
        answer: 'A',
        correct: true,
        boxes: [],
        rewards: {},
        advantage: 0,
        tokens: { prompt: 1, completion: 1 },
        finish: 'stop' as const,
        time,
      })),
    ),
  );
}

const lines = (records: RolloutRecord[]): string => records.map((r) => JSON.stringify(r) + '\n').join('');

test('replayed steps show their last attempt only: list, counts, live strip, a question, the exports, a reopened index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivgr-replay-'));
  try {
    mkdirSync(join(dir, 'events'));
    const file = join(dir, 'events', 'rollouts.jsonl');
    let counter = 0;
    const write = (step: number, label: string, time: number) => appendFileSync(file, lines(attempt(step, label, time, ++counter)));
    for (let step = 1; step <= 6; step++) write(step, 'first', 1000 + step);
    // Killed after step 6, resumed from checkpoint 4: steps 5 and 6 again, then 7; the engine restarts after step 7, from checkpoint 6.
    write(5, 'resumed', 2005);
    write(6, 'resumed', 2006);
    write(7, 'first', 2007);
    write(7, 'restarted', 3007);

    const expectLast = async (s: RolloutQueryService, label7: string) => {
      assert.equal(s.total, 7 * PER_STEP, 'one attempt per step');
      const page = await s.query({}, { key: 'step', dir: 'asc' }, 0, 1000);
      assert.equal(page.total, 7 * PER_STEP);
      for (let step = 1; step <= 7; step++) {
        const rows = page.rows.filter((r) => r.step === step);
        assert.equal(rows.length, PER_STEP, `step ${step} once`);
        const want = step === 7 ? label7 : step >= 5 ? 'resumed' : 'first';
        assert.ok(
          rows.every((r) => r.preview.includes(want)),
          `step ${step} shows its attempt "${want}"`,
        );
      }
      const live = await s.latest(PER_STEP);
      assert.ok(
        live.every((r) => r.step === 7 && r.preview.includes(label7)),
        'the live strip shows the last attempt',
      );
      assert.equal((await s.forPrompt('q1')).length, (7 * PER_STEP) / 2, "a question's rollouts: one attempt per step");
    };

    const first = new RolloutQueryService(dir);
    await first.refresh();
    await expectLast(first, 'restarted');

    const exported = await readLastAttempts(file, () => true);
    assert.equal(exported.length, 7 * PER_STEP);
    assert.deepEqual(
      [...new Set(exported.filter((r) => r.step >= 5).map((r) => /<think>(\w+)</.exec(r.output)?.[1]))],
      ['resumed', 'restarted'],
    );

    // A reopen starts from the saved index; another restart of step 7 is appended after it.
    write(7, 'again', 4007);
    assert.ok(existsSync(join(dir, 'cache', 'rollout-index.bin')), 'the first build saved the index');
    const reopened = new RolloutQueryService(dir);
    await reopened.refresh();
    assert.deepEqual(reopened.warnings, []);
    await expectLast(reopened, 'again');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
