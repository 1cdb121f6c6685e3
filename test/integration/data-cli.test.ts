import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const tmp = await mkdtemp(join(tmpdir(), 'ivgr-data-cli-'));
after(() => rm(tmp, { recursive: true, force: true }));

function ivgr(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ivgr data', () => {
  const out = join(tmp, 'synth');

  it('synth writes a dataset and check summarises it, as text and as JSON', () => {
    const s = ivgr('data', 'synth', '--out', out, '--n', '10', '--seed', '5', '--size', '192', '--json');
    assert.equal(s.code, 0, s.stderr);
    const made = JSON.parse(s.stdout);
    assert.deepEqual([made.counts, made.rendered, made.cached], [{ train: 8, val: 1, test: 1 }, 10, 0]);
    const again = ivgr('data', 'synth', '--out', out, '--n', '10', '--seed', '5', '--size', '192');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /train 8, val 1, test 1; rendered 0, cached 10/);

    const c = ivgr('data', 'check', out, '--json');
    assert.equal(c.code, 0, c.stderr);
    const summary = JSON.parse(c.stdout);
    assert.equal(summary.format, 'synthetic');
    assert.equal(summary.loaded, 10);
    assert.equal(summary.skipped, 0);
    assert.deepEqual(Object.keys(summary.families).sort(), ['attribute', 'count', 'position', 'text']);
    assert.deepEqual(summary.splits, { train: 8, val: 1, test: 1 });
    assert.equal(summary.imageSizes.maxWidth, 192);
    const text = ivgr('data', 'check', out);
    assert.match(text.stdout, /records loaded: 10\nrecords skipped: 0\nquestion types: attribute \d+, count \d+, position \d+, text \d+/);
  });

  it('lists skipped records with reasons and fails when nothing loads', async () => {
    await writeFile(join(tmp, 'bad.jsonl'), '{"id":"a","image":"../x.png","question":"q","answer":"x"}\n');
    const c = ivgr('data', 'check', join(tmp, 'bad.jsonl'), '--format', 'jsonl');
    assert.equal(c.code, 1);
    assert.match(
      c.stdout,
      /records loaded: 0\nrecords skipped: 1\n {2}bad\.jsonl:1: field "image": expected a path inside the dataset root, got "\.\.\/x\.png"/,
    );
  });

  it('reports bad usage with exit code 2', () => {
    assert.equal(ivgr('data', 'synth', '--out', out, '--n', 'ten', '--seed', '1').code, 2);
    assert.match(
      ivgr('data', 'synth', '--out', out, '--n', 'ten', '--seed', '1').stderr,
      /--n must be an integer 1\.\.10000000, got 'ten'/,
    );
    assert.match(
      ivgr('data', 'check', out, '--format', 'coco').stderr,
      /--format must be one of synthetic, vstar, hrbench, jsonl, got 'coco'/,
    );
    assert.match(ivgr('data', 'frobnicate').stderr, /unknown subcommand 'frobnicate'; expected synth or check/);
    const missing = ivgr('data', 'check', join(tmp, 'nope'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /dataset not found/);
  });
});
