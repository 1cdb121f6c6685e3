/** The rollout index saved in <run>/cache: reopen without a rescan, appended lines, and caches that must not be trusted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndexProgress } from '../../src/run/rollout-index';
import { RolloutQueryService } from '../../src/run/rollout-query';
import { makeRollout, prompts } from '../webview/harness/fixture';

const p = prompts(3, false);
const line = (i: number, step: number): string =>
  JSON.stringify(makeRollout(i, step, i % 2 ? 'textual' : 'grounded', p[i % 3]!, i % 4, () => ((i * 7919) % 100) / 100)) + '\n';

function writeRun(dir: string, from: number, n: number): string {
  mkdirSync(join(dir, 'events'), { recursive: true });
  const file = join(dir, 'events', 'rollouts.jsonl');
  appendFileSync(file, Array.from({ length: n }, (_, k) => line(from + k, Math.floor((from + k) / 10))).join(''));
  return file;
}

/** Opens the run as the panel does; `firstBytes` is where the first build started (all of it when the cache covered the file). */
async function open(dir: string): Promise<{ s: RolloutQueryService; firstBytes: number }> {
  const seen: IndexProgress[] = [];
  const s = new RolloutQueryService(dir, { onIndexProgress: (e) => seen.push(e) });
  await s.refresh();
  assert.equal(seen.at(-1)?.done, true, 'the first build ends with done');
  return { s, firstBytes: seen[0]!.bytes };
}

async function views(s: RolloutQueryService): Promise<unknown[]> {
  const all = await s.query({}, { key: 'step', dir: 'desc' }, 0, 1000);
  return [
    all,
    await s.query({ stream: 'grounded', rewardMin: 0.3 }, { key: 'score', dir: 'asc' }, 0, 1000),
    await s.query({ promptId: 'q2' }, { key: 'advantage', dir: 'desc' }, 3, 20),
    await s.get(all.rows[17]!.id),
  ];
}

function tempRun(): string {
  return mkdtempSync(join(tmpdir(), 'ivgr-index-cache-'));
}

test('a reopened run loads the saved index and reads nothing again; the answers are the same', async () => {
  const dir = tempRun();
  try {
    const file = writeRun(dir, 0, 120);
    const first = await open(dir);
    assert.equal(first.firstBytes, 0);
    assert.ok(existsSync(join(dir, 'cache', 'rollout-index.bin')), 'the build saved its index under cache/');
    const again = await open(dir);
    assert.equal(again.firstBytes, statSync(file).size, 'the cache covers the whole file');
    assert.equal(again.s.total, 120);
    assert.deepEqual(await views(again.s), await views(first.s));
    assert.deepEqual(again.s.warnings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lines appended after the cache was saved are read from where it ends, a torn last line left for later', async () => {
  const dir = tempRun();
  try {
    const file = writeRun(dir, 0, 60);
    await open(dir);
    const covered = statSync(file).size;
    writeRun(dir, 60, 45);
    appendFileSync(file, '{"id": "half-writ');
    const reopened = await open(dir);
    assert.equal(reopened.firstBytes, covered);
    assert.equal(reopened.s.total, 105);
    const fresh = new RolloutQueryService(dir);
    rmSync(join(dir, 'cache'), { recursive: true, force: true });
    await fresh.refresh();
    assert.deepEqual(await views(reopened.s), await views(fresh));
    assert.match((await reopened.s.query({}, { key: 'step', dir: 'desc' }, 0, 1)).rows[0]!.id, /^r100-/, 'the newest step comes first');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const spoilers: [string, RegExp, (cache: string, dir: string) => void | Promise<void>][] = [
  [
    'corrupt',
    /corrupt: checksum mismatch/,
    (cache) => {
      const b = readFileSync(cache);
      b[b.length - 30]! ^= 0xff;
      writeFileSync(cache, b);
    },
  ],
  ['truncated', /truncated: \d+ bytes, expected \d+ for 80 rows/, (cache) => truncateSync(cache, statSync(cache).size - 7)],
  [
    'not a cache',
    /bad magic/,
    (cache) => writeFileSync(cache, 'hello, not an index at all, but long enough to have a header of sixty-four bytes'),
  ],
  [
    'from another run',
    /stale: the cache was built from other contents/,
    async (cache) => {
      const other = tempRun();
      try {
        writeRun(other, 500, 50);
        await new RolloutQueryService(other).refresh();
        copyFileSync(join(other, 'cache', 'rollout-index.bin'), cache);
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    },
  ],
  [
    'rollouts file truncated',
    /stale: .* has \d+ bytes, the cache covers \d+/,
    (_cache, dir) => {
      const file = join(dir, 'events', 'rollouts.jsonl');
      const text = readFileSync(file, 'utf8').split('\n');
      writeFileSync(file, text.slice(0, 40).join('\n') + '\n');
    },
  ],
  [
    'rollouts file rewritten in place',
    /stale: .* was modified without growing/,
    (_cache, dir) => {
      const file = join(dir, 'events', 'rollouts.jsonl');
      const b = readFileSync(file);
      const at = b.indexOf('"score":') + 8;
      b[at] = b[at] === 0x30 ? 0x31 : 0x30;
      writeFileSync(file, b);
      const t = statSync(file).mtime;
      utimesSync(file, t, new Date(t.getTime() + 5000));
    },
  ],
];

for (const [name, reason, spoil] of spoilers) {
  test(`a cache that is ${name} is ignored with a warning and rebuilt`, async () => {
    const dir = tempRun();
    try {
      writeRun(dir, 0, 80);
      await open(dir);
      const cache = join(dir, 'cache', 'rollout-index.bin');
      await spoil(cache, dir);
      const reopened = await open(dir);
      assert.equal(reopened.firstBytes, 0, 'the whole file was read again');
      assert.equal(reopened.s.warnings.length, 1, reopened.s.warnings.join('\n'));
      assert.match(reopened.s.warnings[0]!, /rollout-index\.bin: ignored the rollout index cache \(/);
      assert.match(reopened.s.warnings[0]!, reason);
      rmSync(join(dir, 'cache'), { recursive: true, force: true });
      const fresh = new RolloutQueryService(dir);
      await fresh.refresh();
      assert.deepEqual(await views(reopened.s), await views(fresh));
      const third = await open(dir);
      assert.equal(third.firstBytes, statSync(join(dir, 'events', 'rollouts.jsonl')).size, 'the rebuilt cache is used next time');
      assert.deepEqual(third.s.warnings, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
