/**
 * The panel's Try prompt on the real engines: a run with the built-in tiny model, briefly warm
 * started by the PyTorch engine and saved as a checkpoint; `tryTargetOf` finds it and its base
 * model, `TryPromptRunner` exports it to ONNX (once) and answers on the ONNX Runtime engine. A
 * question asked this way gets the same trace the evaluator gets for it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryPromptResultSchema } from '../../src/core/protocol/webview';
import { parseTrace } from '../../src/core/trace';
import { createOrtEngine, onnxExportDir } from '../../src/engine/ort';
import { TryPromptRunner, tryTargetOf } from '../../src/extension/try-prompt';
import { evaluateMode } from '../../src/worker/evaluate';
import { questionText } from '../../src/worker/prompts';
import { tinyRunWithCheckpoint, type TinyRun } from './fixtures/tiny-run';

const STEP = 5;
const work = mkdtempSync(join(tmpdir(), 'ivgr-try-prompt-'));
const logs: string[] = [];
let tiny: TinyRun;
let runner: TryPromptRunner;

before(async () => {
  tiny = await tinyRunWithCheckpoint(work, { sftSteps: 40, step: STEP, val: 4, log: (l) => logs.push(l) });
  runner = new TryPromptRunner({ provider: 'cpu', threads: 1, log: (l) => logs.push(l) });
});

after(async () => {
  await runner?.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('Try prompt on the ONNX Runtime engine', () => {
  it('finds the latest checkpoint and the base model, exports once, and answers as the evaluator does', { timeout: 600_000 }, async () => {
    const record = tiny.held[0]!;
    const target = tryTargetOf(tiny.runDir, undefined);
    assert.equal(target.checkpoint, STEP);
    assert.equal(target.maxTokens, 64);
    assert.equal(await target.model(), tiny.model, 'the tiny model the run trained');
    assert.equal(existsSync(onnxExportDir(target.checkpointDir)), false);
    const progress: string[] = [];
    const q = {
      imagePath: join(tiny.data.root, record.image),
      image: record.image,
      question: questionText(record),
      kind: 'grounded' as const,
      maxTokens: target.maxTokens,
    };
    const result = await runner.run(target, q, (m) => progress.push(m));

    assert.equal(tryPromptResultSchema.safeParse(result).success, true, 'the result is a valid protocol message');
    assert.equal(existsSync(join(onnxExportDir(target.checkpointDir), 'manifest.json')), true, 'exported next to the checkpoint');
    assert.ok(
      progress.some((m) => /Exporting step 5 to ONNX/.test(m)) &&
        progress.some((m) => /Loading step 5/.test(m)) &&
        progress.some((m) => /Generating/.test(m)),
      progress.join(' | '),
    );
    assert.equal(result.engine, 'ort');
    assert.equal(result.checkpoint, STEP);
    assert.deepEqual(result.imageSize, { width: record.width, height: record.height });
    assert.equal(result.convention, 'qwen2-1000');
    assert.ok(result.completionTokens > 0 && result.output.length > 0);
    const parsed = parseTrace(result.output, { convention: 'qwen2-1000', original: { width: record.width, height: record.height } });
    assert.deepEqual(result.boxes, parsed.boxes, 'boxes in original-image pixels, as the scorer reads them');
    assert.equal(result.answer, parsed.answerText);
    for (const [x1, y1, x2, y2] of result.boxes)
      assert.ok(x1 >= 0 && y1 >= 0 && x2 <= record.width && y2 <= record.height && x1 <= x2 && y1 <= y2);

    // The evaluator, on its own ORT engine, asks the same question the same way.
    const ort = createOrtEngine({ modelDir: onnxExportDir(target.checkpointDir), threads: 1 });
    try {
      const info = await ort.load({ model: onnxExportDir(target.checkpointDir) });
      const [evaluated] = await evaluateMode(ort, info, [record], tiny.data.root, 'grounded', {
        checkpoint: 'step-5',
        split: 'val',
        maxTokens: 64,
        maxToolCalls: 0,
        seed: 0,
        workDir: join(work, 'crops'),
      });
      assert.equal(result.output, evaluated!.output);
      assert.deepEqual(result.boxes, evaluated!.boxes);
    } finally {
      await ort.shutdown();
    }
  });

  it('keeps the engine for the next question: no export, no load', async () => {
    const record = tiny.held[1]!;
    const progress: string[] = [];
    const target = tryTargetOf(tiny.runDir, STEP);
    const r = await runner.run(
      target,
      {
        imagePath: join(tiny.data.root, record.image),
        image: record.image,
        question: 'Where is the marked object?',
        kind: 'textual',
        maxTokens: 32,
      },
      (m) => progress.push(m),
    );
    assert.deepEqual(progress, [`Generating with step ${STEP} on ONNX Runtime (cpu)…`]);
    assert.equal(r.kind, 'textual');
    assert.ok(
      r.input.includes('Where is the marked object?') && r.input.includes('write no boxes'),
      'the textual prompt format of src/worker/prompts.ts',
    );
  });

  it('stops at a cancel and stays usable', async () => {
    const record = tiny.held[2]!;
    const target = tryTargetOf(tiny.runDir, STEP);
    const q = {
      imagePath: join(tiny.data.root, record.image),
      image: record.image,
      question: questionText(record),
      kind: 'grounded' as const,
      maxTokens: 16,
    };
    const abort = new AbortController();
    abort.abort(new Error('cancelled'));
    await assert.rejects(
      runner.run(target, q, () => undefined, abort.signal),
      /cancelled/,
    );
    assert.equal(runner.running, false);
    const r = await runner.run(target, q, () => undefined);
    assert.ok(r.completionTokens > 0);
  });

  it('names what is wrong: a missing checkpoint, an unavailable execution provider', async () => {
    assert.throws(() => tryTargetOf(tiny.runDir, 7), /no complete checkpoint at step 7 \(it has 5\)/);
    const cuda = new TryPromptRunner({ provider: 'cuda', threads: 1 });
    try {
      const record = tiny.held[0]!;
      const r = await cuda
        .run(
          tryTargetOf(tiny.runDir, STEP),
          { imagePath: join(tiny.data.root, record.image), image: record.image, question: 'Which colour?', kind: 'textual', maxTokens: 4 },
          () => undefined,
        )
        .then(
          () => null,
          (err: unknown) => err as Error,
        );
      // Where onnxruntime-node has no CUDA provider (CPU-only machines), the error says so and what to do.
      if (r) assert.match(r.message, /CUDA execution provider is not available.*cuda12.*cpu provider/);
    } finally {
      await cuda.dispose();
    }
  });
});
