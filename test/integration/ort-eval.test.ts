/**
 * Evaluation on ONNX Runtime: `ivgr eval --engine ort` exports a checkpoint once and evaluates
 * it in the three modes, periodic evaluation with `engine: ort` exports the live weights, and
 * every record and summary row names the engine that produced it (old files read as PyTorch).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evalRecordSchema } from '../../src/core/protocol/webview';
import type { EvalRecord } from '../../src/core/types';
import { checkpointDigest, onnxExportDir } from '../../src/engine/ort';
import { createTorchEngine } from '../../src/engine/torch';
import { writeWorkerState } from '../../src/run/checkpoints';
import { runConfigSchema } from '../../src/run/config-schema';
import { readAll } from '../../src/run/jsonl-reader';
import { createRunDir } from '../../src/run/run-dir';
import { evaluateCheckpoints, writeEvalSummary, type EvalSummary } from '../../src/worker/eval-run';
import { EventSink } from '../../src/worker/event-sink';
import { engineStarter, modelPathOf, openRunData } from '../../src/worker/run-inputs';

const work = mkdtempSync(join(tmpdir(), 'ivgr-ort-eval-'));
const runDir = join(work, 'runs', 'r');
const checkpoint = join(runDir, 'checkpoints', '0');
const config = runConfigSchema.parse({
  dataset: { path: join(work, 'data') },
  synthetic: { seed: 5, counts: { train: 8, val: 3, test: 3 }, size: 448 },
  maxTokens: 16,
  maxToolCalls: 1,
});

function ivgr(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, IVGR_THREADS: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const evalRecords = async (): Promise<EvalRecord[]> => (await readAll<EvalRecord>(join(runDir, 'events', 'eval.jsonl'))).records;
const summary = (): EvalSummary => JSON.parse(readFileSync(join(runDir, 'eval-summary.json'), 'utf8')) as EvalSummary;

before(async () => {
  createRunDir(runDir, { id: 'r', given: {}, config, engine: 'torch' });
  const data = await openRunData({}, config, () => undefined);
  const torch = createTorchEngine({ log: () => undefined, env: { IVGR_THREADS: '1' }, timeoutMs: 120_000 });
  try {
    await torch.load({ model: await modelPathOf(config, data, undefined, () => undefined), seed: 0 });
    await torch.save(checkpoint, 0);
  } finally {
    await torch.shutdown();
  }
  writeWorkerState(checkpoint, {
    version: 1,
    step: 0,
    cursor: { epoch: 0, index: 0 },
    rng: [1, 2, 3, 4],
    configHash: 'test',
    time: new Date().toISOString(),
    phase: 'sft',
  });
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('evaluation on ONNX Runtime', () => {
  it('ivgr eval --engine ort exports the checkpoint and evaluates the three modes', async () => {
    const r = ivgr(['eval', runDir, '--engine', 'ort', '--split', 'test', '--threads', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^checkpoint\s+mode\s+engine\s+n\b/m);
    assert.match(r.stdout, /^sft\s+tool\s+ort\s+3\b/m);
    const records = await evalRecords();
    assert.equal(records.length, 9);
    assert.ok(records.every((e) => e.engine === 'ort' && e.checkpoint === 'sft'));
    assert.deepEqual(new Set(records.map((e) => e.mode)), new Set(['textual', 'grounded', 'tool']));
    assert.deepEqual(
      summary().rows.map((row) => [row.mode, row.engine, row.n]),
      [
        ['textual', 'ort', 3],
        ['grounded', 'ort', 3],
        ['tool', 'ort', 3],
      ],
    );
    const manifest = JSON.parse(readFileSync(join(onnxExportDir(checkpoint), 'manifest.json'), 'utf8')) as { source: string };
    assert.equal(manifest.source, await checkpointDigest(checkpoint));
  });

  it('a second evaluation reuses the export', () => {
    const manifest = join(onnxExportDir(checkpoint), 'manifest.json');
    const written = statSync(manifest).mtimeMs;
    const r = ivgr(['eval', checkpoint, '--engine', 'ort', '--split', 'test', '--mode', 'textual', '--label', 'again']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(manifest).mtimeMs, written);
    assert.match(r.stdout, /^again\s+textual\s+ort\s+3\b/m);
  });

  it('periodic evaluation with engine: ort exports the live weights; the table keeps both engines apart', async () => {
    const data = await openRunData({}, { ...config, engine: 'ort' }, () => undefined);
    const { engine, info } = await engineStarter(data.config, data, { log: () => undefined })();
    const events = new EventSink(runDir);
    try {
      const opts = {
        labels: [{ label: 'live', dir: null }],
        modes: ['grounded'] as const,
        split: 'test',
        limit: 2,
        events,
        log: () => undefined,
      };
      const onOrt = await evaluateCheckpoints(runDir, engine, info, data, opts);
      assert.ok(onOrt.every((e) => e.engine === 'ort'));
      assert.ok(existsSync(join(runDir, 'eval-onnx', 'manifest.json')));
      const onTorch = await evaluateCheckpoints(runDir, engine, info, data, { ...opts, engine: 'torch' });
      assert.ok(onTorch.every((e) => e.engine === 'torch'));
      // Same weights, greedy decoding: both engines write the same answers.
      assert.deepEqual(
        onTorch.map((e) => e.output),
        onOrt.map((e) => e.output),
      );
    } finally {
      events.close();
      await engine.shutdown();
    }
    const live = summary().rows.filter((row) => row.checkpoint === 'live');
    assert.deepEqual(
      live.map((row) => row.engine),
      ['ort', 'torch'],
    );
  });

  it('records written before the engine field read as PyTorch', async () => {
    const [first] = await evalRecords();
    const old: Record<string, unknown> = { ...first!, id: 'old:textual:x', checkpoint: 'old', promptId: 'x' };
    delete old.engine;
    appendFileSync(join(runDir, 'events', 'eval.jsonl'), JSON.stringify(old) + '\n');
    assert.equal(evalRecordSchema.parse(old).engine, 'torch');
    const rows = (await writeEvalSummary(runDir, 'test')).rows.filter((row) => row.checkpoint === 'old');
    assert.deepEqual(
      rows.map((row) => [row.engine, row.n]),
      [['torch', 1]],
    );
  });

  it('an unknown engine or provider is refused by name', () => {
    const a = ivgr(['eval', runDir, '--engine', 'tensorrt']);
    assert.notEqual(a.code, 0);
    assert.match(a.stderr, /--engine: 'tensorrt' is not an engine \(expected torch or ort\)/);
    const b = ivgr(['eval', runDir, '--engine', 'ort', '--provider', 'tpu']);
    assert.match(b.stderr, /--provider: 'tpu' is not an execution provider/);
  });
});
