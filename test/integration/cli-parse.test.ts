import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParseResult } from '../../src/core/types';

function ivgrParse(args: string[], input: string | number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'parse', ...args], {
    encoding: 'utf8',
    ...(typeof input === 'string' ? { input } : { stdio: [input, 'pipe', 'pipe'] }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('ivgr parse prints the ParseResult with boxes in original pixels', () => {
  const r = ivgrParse(['--width', '2000', '--height', '1000'], '<think>the sign <box>[100,200,300,400]</box></think><answer>B</answer>');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as ParseResult;
  assert.deepEqual(result.boxes, [[200, 200, 600, 400]]);
  assert.equal(result.answerText, 'B');
  assert.deepEqual(result.problems, []);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'compact JSON by default');
});

test('ivgr parse honours --convention, --resized-* and --pretty', () => {
  const r = ivgrParse(
    ['--convention', 'qwen25-abs', '--width', '2000', '--height', '1000', '--resized-width', '500', '--resized-height', '500', '--pretty'],
    '<think><box>[50,50,100,100]</box></think><answer>A</answer>',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes('\n  "segments"'), 'indented output');
  assert.deepEqual((JSON.parse(r.stdout) as ParseResult).boxes, [[200, 100, 400, 200]]);
});

test('ivgr parse exits 0 on a malformed trace and lists its problems', () => {
  const r = ivgrParse([], '<answer>B<box>[1,2</box><tool_call>{oops</tool_call>');
  assert.equal(r.status, 0, r.stderr);
  const codes = (JSON.parse(r.stdout) as ParseResult).problems.map((p) => p.code).sort();
  assert.deepEqual(codes, ['bad-box', 'bad-tool-call', 'missing-think', 'unclosed-tag']);
});

test('ivgr parse exits 2 naming the flag on bad flags', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /--bogus/],
    [['--width', 'wide'], /--width must be a positive number.*'wide'/],
    [['--height=-3'], /--height must be a positive number/],
    [['--height', '0'], /--height must be a positive number.*'0'/],
    [['--convention', 'xyxy'], /--convention must be one of .*'xyxy'/],
    [['--resized-width', '500'], /--resized-height is required/],
  ];
  for (const [args, message] of cases) {
    const r = ivgrParse(args, '');
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});

test('ivgr parse exits 1 when stdin cannot be read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivgr-parse-'));
  const fd = openSync(dir, 'r');
  try {
    const r = ivgrParse([], fd);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read the trace from stdin/);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true });
  }
});
