/**
 * The ORT engine against the PyTorch engine on the same checkpoint: the tiny model, briefly
 * warm-started on synthetic traces, exported with export_onnx, then both engines answer the
 * same 20 held-out questions. Greedy generations must agree token for token, and per-token
 * log-probabilities within LOGPROB_TOLERANCE.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatasetRecord, EvalMode } from '../../src/core/types';
import { corpusLines, ensureSyntheticDataset, loadDataset } from '../../src/data';
import type { Engine, GenerateRequest } from '../../src/engine/engine';
import { createOrtEngine, exportCheckpointToOnnx, onnxExportDir } from '../../src/engine/ort';
import { createTorchEngine, ensureTinyModel, type TorchEngine } from '../../src/engine/torch';
import { promptCorpus, promptMessages, zoomObservation } from '../../src/worker/prompts';
import { zoomCrop } from '../../src/worker/zoom';

/**
 * Largest difference allowed between the engines' per-token log-probabilities (natural log).
 * Both compute in float32 and differ only in summation order; measured here: under 1e-5.
 */
const LOGPROB_TOLERANCE = 1e-4;
const SAMPLES = 20;
const SFT_STEPS = 48;
const SFT_LR = 3e-3;

const work = mkdtempSync(join(tmpdir(), 'ivgr-ort-parity-'));
const dataDir = join(work, 'data');
const modelDir = join(work, 'tiny');
const checkpointDir = join(work, 'run', 'checkpoints', '0');
const logs: string[] = [];
let torch: Engine & TorchEngine;
let ort: Engine;
let held: DatasetRecord[];
let imageRoot: string;

function prompts(records: DatasetRecord[], mode: EvalMode): GenerateRequest['prompts'] {
  return records.map((r, i) => ({ id: `${mode}-${i}`, images: [join(imageRoot, r.image)], messages: promptMessages(mode, r) }));
}

before(async () => {
  await ensureSyntheticDataset(dataDir, { seed: 11, counts: { train: 48, val: SAMPLES, test: 1 }, size: 448, convention: 'qwen2-1000' });
  const train = await loadDataset(dataDir, { split: 'train' });
  imageRoot = train.root;
  held = (await loadDataset(dataDir, { split: 'val' })).records;
  assert.equal(held.length, SAMPLES);
  await ensureTinyModel(modelDir, [...corpusLines(train.records), ...promptCorpus()]);
  torch = createTorchEngine({ log: (l) => logs.push(l), env: { IVGR_THREADS: '1' }, timeoutMs: 300_000 });
  await torch.load({ model: modelDir, learningRate: SFT_LR, seed: 0 });
  // A brief warm start, so greedy decoding writes traces rather than one repeated token.
  const examples = train.records.flatMap((r) => {
    const images = [join(imageRoot, r.image)];
    return r.reference
      ? [
          { images, messages: promptMessages('grounded', r), target: r.reference.grounded },
          { images, messages: promptMessages('textual', r), target: r.reference.textual },
        ]
      : [];
  });
  for (let i = 0; i < SFT_STEPS; i++) {
    const batch = Array.from({ length: 8 }, (_, k) => examples[(i * 8 + k) % examples.length]!);
    await torch.sftStep({ examples: batch, learningRate: SFT_LR, microBatch: 8 });
  }
  await torch.save(checkpointDir, 0);
  const dir = await exportCheckpointToOnnx({ checkpointDir, model: modelDir, log: (l) => logs.push(l) });
  assert.equal(dir, onnxExportDir(checkpointDir));
  ort = createOrtEngine({ modelDir: dir, threads: 1, log: (l) => logs.push(l) });
  const info = await ort.load({ model: dir });
  assert.equal(info.coordConvention, 'qwen2-1000');
  assert.equal(info.imageSize, 224);
});

after(async () => {
  await Promise.allSettled([torch?.shutdown(), ort?.shutdown()]);
  rmSync(work, { recursive: true, force: true });
});

describe('ORT engine parity with the PyTorch engine (tiny model, 20 held-out samples)', () => {
  for (const mode of ['grounded', 'textual'] as const) {
    it(`greedy ${mode} generations match token for token`, async (t) => {
      const request: GenerateRequest = { prompts: prompts(held, mode), n: 1, temperature: 0, maxTokens: 64, seed: 3, keep: false };
      const [want, got] = [await torch.generate(request), await ort.generate(request)];
      assert.equal(got.samples.length, SAMPLES);
      const distinct = new Set(want.samples.map((s) => s.text));
      assert.ok(distinct.size > 1, 'the warm-started model answers questions differently');
      t.diagnostic(`${distinct.size} distinct answers`);
      for (const [i, w] of want.samples.entries()) {
        const g = got.samples[i]!;
        assert.equal(g.promptId, w.promptId);
        assert.equal(g.promptTokens, w.promptTokens, `${w.promptId}: prompt token count`);
        assert.equal(g.text, w.text, `${w.promptId}: generated text`);
        assert.equal(g.completionTokens, w.completionTokens, `${w.promptId}: generated token count`);
        assert.equal(g.finish, w.finish);
      }
    });
  }

  it(`per-token log-probabilities agree within ${LOGPROB_TOLERANCE}`, async (t) => {
    const request: GenerateRequest = { prompts: prompts(held, 'grounded'), n: 1, temperature: 0, maxTokens: 48, seed: 3, keep: false };
    const generated = await torch.generate(request);
    const items = held.map((r, i) => ({
      images: [join(imageRoot, r.image)],
      messages: promptMessages('grounded', r),
      target: generated.samples[i]!.text || 'A',
    }));
    const [want, got] = [await torch.logprobs({ items }), await ort.logprobs({ items })];
    let worst = 0;
    for (const [i, w] of want.items.entries()) {
      const g = got.items[i]!;
      assert.equal(g.tokens.length, w.tokens.length);
      for (const [k, v] of w.tokens.entries()) worst = Math.max(worst, Math.abs(v - g.tokens[k]!));
    }
    t.diagnostic(`largest per-token log-prob difference: ${worst.toExponential(2)}`);
    assert.ok(worst <= LOGPROB_TOLERANCE, `largest per-token difference ${worst} exceeds ${LOGPROB_TOLERANCE}`);
  });

  it('continue (the zoom tool) appends a crop and goes on identically', async () => {
    const records = held.slice(0, 4);
    const request: GenerateRequest = {
      prompts: prompts(records, 'tool'),
      n: 1,
      temperature: 0,
      maxTokens: 24,
      seed: 3,
      keep: true,
      stop: ['</tool_call>'],
    };
    const [a, b] = [await torch.generate(request), await ort.generate(request)];
    for (const [i, r] of records.entries()) {
      const box = r.evidence[0] ?? [0, 0, r.width / 2, r.height / 2];
      const crop = join(work, `crop-${i}.png`);
      await zoomCrop(join(imageRoot, r.image), box, 224, crop);
      const step = { image: crop, text: zoomObservation(box), maxTokens: 24, temperature: 0, seed: 3, keep: true };
      const want = await torch.continue({ rolloutId: a.samples[i]!.rolloutId, ...step });
      const got = await ort.continue({ rolloutId: b.samples[i]!.rolloutId, ...step });
      assert.equal(got.promptTokens, want.promptTokens, `${r.id}: context length after the tool turn`);
      assert.equal(got.text, want.text, `${r.id}: text after the zoom`);
      assert.equal(got.completionTokens, want.completionTokens);
    }
    await Promise.all([torch.release(a.samples.map((s) => s.rolloutId)), ort.release(b.samples.map((s) => s.rolloutId))]);
  });

  it('exporting the same checkpoint again reuses the export', async () => {
    const manifest = join(onnxExportDir(checkpointDir), 'manifest.json');
    const before = statSync(manifest).mtimeMs;
    const lines: string[] = [];
    const t0 = performance.now();
    await exportCheckpointToOnnx({ checkpointDir, model: modelDir, log: (l) => lines.push(l) });
    assert.ok(performance.now() - t0 < 5_000, 'no engine is started for an up-to-date export');
    assert.equal(statSync(manifest).mtimeMs, before);
    assert.ok(
      lines.some((l) => l.includes('up to date')),
      lines.join('\n'),
    );
  });
});
