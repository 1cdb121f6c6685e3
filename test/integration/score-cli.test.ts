import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir = '';
const record = {
  id: 'q1',
  image: 'q1.png',
  width: 900,
  height: 600,
  question: 'What colour is the sign?',
  options: ['red', 'blue', 'green'],
  answer: 'B',
  evidence: [[800, 20, 880, 90]],
};
const goodGrounded = '<think>The sign <box>[800,20,880,90]</box> is blue.</think><answer>B</answer>';

function ivgr(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'score', ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ivgr-score-'));
  file('record.json', JSON.stringify(record));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('scores a grounded trace from stdin and prints every term with the total', () => {
  const r = ivgr(['--trace', '-', '--record', join(dir, 'record.json'), '--convention', 'pixels'], goodGrounded);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out.terms).sort(), ['accuracy', 'format', 'grounding', 'tool']);
  assert.equal(out.terms.grounding.value, 1);
  assert.equal(out.total, 2);
  assert.equal(out.highQuality, true);
});

test('textual trace with references and custom weights', () => {
  const trace = file('t.txt', '<think>The sign near the top-right corner is blue.</think><answer>B</answer>');
  const refs = file('refs.json', JSON.stringify([goodGrounded, '<think>Sign <box>[0,0,50,50]</box>.</think><answer>A</answer>']));
  const r = ivgr([
    '--trace',
    trace,
    '--record',
    join(dir, 'record.json'),
    '--stream',
    'textual',
    '--convention',
    'pixels',
    '--references',
    refs,
    '--weights',
    'consistency=2,format=0',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.terms.consistency, { value: 1, weight: 2, explanation: out.terms.consistency.explanation });
  assert.match(out.terms.consistency.explanation, /1\/1 reference/);
  assert.deepEqual(
    out.references.map((x: { highQuality: boolean }) => x.highQuality),
    [true, false],
  );
  assert.equal(out.total, 3);
});

test('any trace, even garbage, scores with exit 0', () => {
  const r = ivgr(['--trace', '-', '--record', join(dir, 'record.json')], '<box>[[[<think>\u0000');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).terms.accuracy.value, 0);
});

test('bad flags exit 2 with a message', () => {
  const missing = ivgr(['--record', join(dir, 'record.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--trace is required/);
  const stream = ivgr(['--trace', '-', '--record', join(dir, 'record.json'), '--stream', 'both'], 'x');
  assert.equal(stream.code, 2);
  assert.match(stream.stderr, /--stream must be grounded or textual/);
  const weights = ivgr(['--trace', '-', '--record', join(dir, 'record.json'), '--weights', 'format=-1'], 'x');
  assert.equal(weights.code, 2);
  assert.match(weights.stderr, /weights\.format must be a finite number >= 0/);
  assert.equal(ivgr(['--bogus']).code, 2);
});

test('an unreadable or invalid record exits 1 naming the file and field', () => {
  const gone = ivgr(['--trace', '-', '--record', join(dir, 'nope.json')], 'x');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /cannot read record .*nope\.json/);
  const badBox = file('bad.json', JSON.stringify({ ...record, evidence: [[1, 2, 3]] }));
  const r = ivgr(['--trace', '-', '--record', badBox], 'x');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.json': field "evidence\[0\]"/);
  const noAnswer = file('noanswer.json', JSON.stringify({ ...record, answer: undefined }));
  assert.match(ivgr(['--trace', '-', '--record', noAnswer], 'x').stderr, /field "answer"/);
  const noSize = file('nosize.json', JSON.stringify({ ...record, width: undefined }));
  assert.match(ivgr(['--trace', '-', '--record', noSize], 'x').stderr, /field "width": expected the image size in pixels/);
  const outside = file('outside.json', JSON.stringify({ ...record, evidence: [[800, 20, 1000, 90]] }));
  assert.match(ivgr(['--trace', '-', '--record', outside], 'x').stderr, /field "evidence\[0\]": expected a box inside the 900x600 image/);
  const notJson = file('broken.json', '{"id": ');
  const j = ivgr(['--trace', '-', '--record', notJson], 'x');
  assert.equal(j.code, 1);
  assert.match(j.stderr, /broken\.json' is not valid JSON/);
});
