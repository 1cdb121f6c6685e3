/** The newest rows from the file's tail, before the index is built, equal the indexed first rows of the default view. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { RolloutQueryService } from '../../src/run/rollout-query';
import { makeRollout, prompts } from '../webview/harness/fixture';

const p = prompts(3, false);
const rollout = (i: number, step: number): string =>
  JSON.stringify(makeRollout(i, step, i % 3 ? 'textual' : 'grounded', p[i % 3]!, i % 4, () => ((i * 7919) % 100) / 100));
const desc = { key: 'step', dir: 'desc' } as const;

/** Lines the index skips, which the tail must skip too. */
const junk = fc.constantFrom('not json', '', '   ', '[1, 2]', '{"id": "x", "step": "one"}', '{"id": "torn", "out');

const fileArb = fc.record({
  // Step groups in file order (steps never decrease, as the worker writes them).
  groups: fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 1, max: 25 }) }), {
    minLength: 0,
    maxLength: 12,
  }),
  junkAt: fc.array(fc.tuple(fc.nat(), junk), { maxLength: 6 }),
  tornTail: fc.option(fc.constantFrom('{"id": "half', '{', 'x'), { nil: undefined }),
  noFinalNewline: fc.boolean(),
  offset: fc.integer({ min: 0, max: 120 }),
  limit: fc.integer({ min: 1, max: 100 }),
});

test('the tail answer equals the first pages of the full index (random files, bad and torn lines)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ivgr-tail-'));
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fileArb, async (f) => {
        const dir = join(root, String(n++));
        mkdirSync(join(dir, 'events'), { recursive: true });
        const lines: string[] = [];
        let step = 0;
        let i = 0;
        for (const g of f.groups) {
          step += g.gap;
          for (let k = 0; k < g.size; k++) lines.push(rollout(i++, step));
        }
        for (const [at, j] of f.junkAt) lines.splice(at % (lines.length + 1), 0, j);
        let text = lines.join('\n') + (lines.length > 0 && !f.noFinalNewline ? '\n' : '');
        if (f.tornTail !== undefined && (text === '' || text.endsWith('\n'))) text += f.tornTail;
        writeFileSync(join(dir, 'events', 'rollouts.jsonl'), text);

        const s = new RolloutQueryService(dir);
        const quick = await s.newestPage({}, desc, f.offset, f.limit);
        assert.ok(quick, 'a file in step order is answered from its tail');
        await s.refresh();
        const full = await s.query({}, desc, f.offset, f.limit);
        assert.deepEqual(quick.rows, full.rows);
        if (quick.counting) assert.ok(quick.total >= f.offset + quick.rows.length, 'the estimate covers the rows shown');
        else assert.equal(quick.total, full.total, 'a tail that reached the start is exact');
      }),
      { numRuns: 120 },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a tail estimate counts rows by bytes; other views, files out of step order and a built index get no tail answer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivgr-tail-'));
  try {
    mkdirSync(join(dir, 'events'), { recursive: true });
    const file = join(dir, 'events', 'rollouts.jsonl');
    appendFileSync(file, Array.from({ length: 2000 }, (_, i) => rollout(i, Math.floor(i / 16)) + '\n').join(''));
    const s = new RolloutQueryService(dir);
    const quick = await s.newestPage({}, desc, 0, 50);
    assert.equal(quick?.counting, true);
    assert.ok(quick.total > 1500 && quick.total < 2500, `estimate ${quick.total} of 2000`);
    assert.equal(await s.newestPage({ stream: 'grounded' }, desc, 0, 50), null, 'a filter waits for the index');
    assert.equal(await s.newestPage({}, { key: 'score', dir: 'desc' }, 0, 50), null, 'another sort waits for the index');
    assert.ok(await s.newestPage({ text: '  ', tags: [] }, desc, 0, 50), 'a blank search is no filter');
    assert.equal((await s.get(quick.rows[3]!.id))?.id, quick.rows[3]!.id, 'a row shown from the tail opens before the index is built');
    await s.refresh();
    assert.equal(await s.newestPage({}, desc, 0, 50), null);

    const shuffled = mkdtempSync(join(tmpdir(), 'ivgr-tail-'));
    try {
      mkdirSync(join(shuffled, 'events'), { recursive: true });
      writeFileSync(join(shuffled, 'events', 'rollouts.jsonl'), [rollout(0, 1), rollout(1, 5), rollout(2, 3)].join('\n') + '\n');
      assert.equal(await new RolloutQueryService(shuffled).newestPage({}, desc, 0, 10), null);
    } finally {
      rmSync(shuffled, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
