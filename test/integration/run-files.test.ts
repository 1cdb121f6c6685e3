import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { JsonlWriter } from '../../src/run/jsonl-writer';
import { readAll, readRange, LineIndex } from '../../src/run/jsonl-reader';
import { createRunDir, updateRunJson } from '../../src/run/run-dir';
import { listRuns } from '../../src/run/run-list';
import { listCheckpoints, writeWorkerState } from '../../src/run/checkpoints';
import { parseConfigText } from '../../src/run/config-load';
import { scratch } from './fixtures/scratch';

const { root: work } = scratch('ivgr-run-');

const tmp = () => mkdtempSync(join(work, 'run-'));

test('the writer appends, reports offsets, and only flush makes lines visible', async () => {
  const file = join(tmp(), 'x.jsonl');
  const w = new JsonlWriter(file);
  const o1 = w.append({ a: 1 });
  const o2 = w.append({ a: 'é' });
  assert.equal(readFileSync(file, 'utf8'), '');
  w.flush();
  w.close();
  const r = await readRange(file, o2);
  assert.equal(o1, 0);
  assert.deepEqual(r.lines, [{ offset: o2, record: { a: 'é' } }]);
});

test('a torn last line is skipped with a warning and the next writer starts a clean line', async () => {
  const file = join(tmp(), 'x.jsonl');
  writeFileSync(file, '{"a":1}\n{"a":2}\n{"a":');
  let r = await readAll<{ a: number }>(file);
  assert.deepEqual(
    r.records.map((x) => x.a),
    [1, 2],
  );
  assert.match(r.warnings.join('\n'), /torn last line/);
  const w = new JsonlWriter(file);
  w.append({ a: 3 });
  w.close();
  r = await readAll<{ a: number }>(file);
  assert.deepEqual(
    r.records.map((x) => x.a),
    [1, 2, 3],
  );
  assert.match(r.warnings.join('\n'), /torn or invalid line/);
  assert.ok(readFileSync(file, 'utf8').startsWith('{"a":1}\n{"a":2}\n{"a":\n'), 'written bytes are never rewritten');
});

test('the line index grows incrementally and reads lines by number', async () => {
  const file = join(tmp(), 'x.jsonl');
  writeFileSync(file, '');
  const idx = new LineIndex(file);
  for (let i = 0; i < 1000; i++) appendFileSync(file, JSON.stringify({ i, pad: 'x'.repeat(i % 50) }) + '\n');
  appendFileSync(file, '{"i": 10');
  assert.equal(idx.refresh(), 1000);
  const r = await idx.lines<{ i: number }>(500, 3);
  assert.deepEqual(
    r.lines.map((l) => l.record.i),
    [500, 501, 502],
  );
  appendFileSync(file, '00}\n');
  assert.equal(idx.refresh(), 1001);
  const last = await idx.lines<{ i: number }>(1000, 1);
  assert.equal(last.lines[0]?.record.i, 1000);
});

test('readRange returns whole lines within a small byte budget', async () => {
  const file = join(tmp(), 'x.jsonl');
  writeFileSync(file, '{"a":1}\n{"a":2}\n{"a":3}\n');
  const r1 = await readRange<{ a: number }>(file, 0, 10);
  assert.deepEqual(
    r1.lines.map((l) => l.record.a),
    [1],
  );
  const r2 = await readRange<{ a: number }>(file, r1.nextOffset, 100);
  assert.deepEqual(
    r2.lines.map((l) => l.record.a),
    [2, 3],
  );
  assert.equal(r2.eof, true);
});

test('runs list with status; a running run whose pid is dead shows as crashed', () => {
  const root = tmp();
  const { given, resolved } = parseConfigText('{"steps": 5}', 'c.json');
  createRunDir(join(root, 'a'), { id: 'a', given, config: resolved, engine: 'torch' });
  createRunDir(join(root, 'b'), { id: 'b', given, config: resolved, engine: 'torch' });
  updateRunJson(join(root, 'a'), { status: 'running', pid: 2 ** 22 + 12345 });
  updateRunJson(join(root, 'b'), { status: 'running', pid: process.pid, step: 3 });
  const runs = Object.fromEntries(listRuns(root).map((r) => [r.id, r]));
  assert.equal(runs.a?.status, 'crashed');
  assert.equal(runs.b?.status, 'running');
  assert.equal(runs.b?.step, 3);
  assert.equal(runs.b?.totalSteps, 5);
});

test('checkpoints without worker-state.json are ignored as interrupted saves', () => {
  const run = tmp();
  for (const s of [10, 2, 5]) {
    mkdirSync(join(run, 'checkpoints', String(s)), { recursive: true });
    if (s !== 10)
      writeWorkerState(join(run, 'checkpoints', String(s)), {
        version: 1,
        step: s,
        cursor: { epoch: 0, index: s },
        rng: [1, 2, 3, 4],
        configHash: 'h',
        time: '',
        phase: 'rl',
      });
  }
  assert.deepEqual(
    listCheckpoints(run).map((c) => c.step),
    [2, 5],
  );
});
