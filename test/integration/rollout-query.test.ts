/** The rollout query service over a real events/rollouts.jsonl: paging, filters, sort, tags, growth, bad lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutQueryService } from '../../src/run/rollout-query';
import { makeRollout, prompts, writeFixtureRun } from '../webview/harness/fixture';
import { fixtureSuite } from '../webview/harness/suite';

const run = fixtureSuite('ivgr-query-', (root) => writeFixtureRun(root, { steps: 5, prompts: 3, samples: 4, bigImage: false }));

run.test('pages, filters and sorts agree with the records in the file', async ({ fx }) => {
  const s = new RolloutQueryService(fx.runDir);
  assert.deepEqual(await s.refresh(), { added: fx.rollouts.length, total: fx.rollouts.length });
  const all = await s.query({}, { key: 'step', dir: 'asc' }, 0, 1000);
  assert.deepEqual(
    all.rows.map((r) => r.id),
    fx.rollouts.map((r) => r.id),
  );
  const page = await s.query({}, { key: 'step', dir: 'asc' }, 10, 5);
  assert.deepEqual(
    page.rows.map((r) => r.id),
    fx.rollouts.slice(10, 15).map((r) => r.id),
  );
  assert.equal(page.total, fx.rollouts.length);

  const want = fx.rollouts
    .filter((r) => r.stream === 'grounded' && !r.correct && r.step >= 2 && r.step <= 4 && r.score >= 0.6)
    .sort((a, b) => b.advantage - a.advantage);
  const got = await s.query(
    { stream: 'grounded', correct: false, stepMin: 2, stepMax: 4, rewardMin: 0.6 },
    { key: 'advantage', dir: 'desc' },
    0,
    1000,
  );
  assert.deepEqual(
    got.rows.map((r) => r.id),
    want.map((r) => r.id),
  );

  const noBoxes = await s.query({ hasBoxes: false }, { key: 'score', dir: 'asc' }, 0, 1000);
  assert.equal(noBoxes.total, fx.rollouts.filter((r) => r.boxes.length === 0).length);
  assert.ok(noBoxes.rows.every((r, i, a) => i === 0 || a[i - 1]!.score <= r.score));

  const text = await s.query({ text: 'ZOOM_IN' }, { key: 'step', dir: 'asc' }, 0, 1000);
  assert.equal(text.total, fx.rollouts.filter((r) => r.output.includes('zoom_in')).length);
  // A needle with a quote only matches through the parsed text, not the JSON escaping.
  const quoted = await s.query({ text: '"name": "zoom_in"' }, { key: 'step', dir: 'asc' }, 0, 1000);
  assert.equal(quoted.total, text.total);
  assert.equal((await s.query({ text: 'stream' }, { key: 'step', dir: 'asc' }, 0, 10)).total, 0, 'key names are not searched');

  const prompt = await s.query({ promptId: 'q1' }, { key: 'step', dir: 'asc' }, 0, 1000);
  assert.equal(prompt.total, fx.rollouts.filter((r) => r.promptId === 'q1').length);
  assert.equal((await s.forPrompt('q1')).length, prompt.total);
});

run.test('get returns the full record by id, null for an unknown id', async ({ fx }) => {
  const s = new RolloutQueryService(fx.runDir);
  await s.refresh();
  const target = fx.rollouts[17]!;
  assert.deepEqual(await s.get(target.id), target);
  assert.equal(await s.get('nope'), null);
});

run.test('annotations drive the tag filter and the row tags; undo withdraws', async ({ fx }) => {
  const s = new RolloutQueryService(fx.runDir);
  await s.refresh();
  const id = fx.rollouts[3]!.id;
  await s.annotate({ v: 1, target: { kind: 'rollout', id }, tags: ['format'], note: 'n', correctedBoxes: [], time: 1 });
  const tagged = await s.query({ tags: ['format', 'other'] }, { key: 'step', dir: 'asc' }, 0, 10);
  assert.deepEqual(
    tagged.rows.map((r) => [r.id, r.tags]),
    [[id, ['format']]],
  );
  await s.annotate({ v: 1, target: { kind: 'rollout', id }, tags: [], note: '', correctedBoxes: [], time: 2, deleted: true });
  assert.equal((await s.query({ tags: ['format'] }, { key: 'step', dir: 'asc' }, 0, 10)).total, 0);
  await assert.rejects(
    s.annotate({ v: 1, target: { kind: 'rollout', id: '' }, tags: [], note: '', correctedBoxes: [], time: 3 }),
    /annotation invalid at target\.id/,
  );
  // A fresh service reads the same history back.
  const again = new RolloutQueryService(fx.runDir);
  await again.refresh();
  assert.deepEqual(again.annotations(), []);
});

test('growth is picked up incrementally; torn and invalid lines are skipped with their offset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivgr-query-grow-'));
  try {
    const file = join(dir, 'events', 'rollouts.jsonl');
    const p = prompts(2, false);
    const rand = () => 0.4;
    const s = new RolloutQueryService(dir);
    assert.deepEqual(await s.refresh(), { added: 0, total: 0 }, 'no file yet is an empty run');
    mkdirSync(join(dir, 'events'), { recursive: true });
    appendFileSync(
      file,
      JSON.stringify(makeRollout(0, 1, 'grounded', p[0]!, 0, rand)) + '\n' + 'not json\n' + JSON.stringify({ id: 'x', step: 'one' }) + '\n',
    );
    appendFileSync(file, JSON.stringify(makeRollout(1, 1, 'textual', p[0]!, 0, rand)) + '\n{"id": "torn');
    assert.equal((await s.refresh()).added, 2);
    assert.equal(s.index.warnings.length, 2);
    assert.match(s.index.warnings.join('\n'), /@\d+: skipped a torn or invalid line/);
    assert.match(s.index.warnings.join('\n'), /field "step" must be a number/);
    const r1 = await s.query({}, { key: 'step', dir: 'asc' }, 0, 10);
    assert.equal(r1.total, 2);
    appendFileSync(file, `", "more": 1}\n` + JSON.stringify(makeRollout(2, 2, 'grounded', p[1]!, 0, rand)) + '\n');
    assert.equal((await s.refresh()).added, 1, 'the completed torn line is invalid, the next one counts');
    assert.deepEqual(
      (await s.latest(2)).map((r) => r.step),
      [1, 2],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
