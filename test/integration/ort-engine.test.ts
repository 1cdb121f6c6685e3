/**
 * The ORT engine on an export of the tiny model (random weights): the pixels and token ids it
 * feeds the model are the PyTorch engine's exactly, sampling follows its seed, and bad input
 * or unavailable operations give errors that say what to do.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Engine, GenerateRequest } from '../../src/engine/engine';
import { createOrtEngine } from '../../src/engine/ort';
import { prepareImage, smartResize } from '../../src/engine/ort/image';
import { readManifest } from '../../src/engine/ort/manifest';
import { TextCodec } from '../../src/engine/ort/text';
import { createTorchEngine, enginePackageDir, ensureTinyModel, pythonPath, EngineError } from '../../src/engine/torch';
import { squareCorpus } from './fixtures/square-corpus';

const work = mkdtempSync(join(tmpdir(), 'ivgr-ort-engine-'));
const modelDir = join(work, 'tiny');
const exportDir = join(work, 'export');
let engine: Engine;
const images: Record<string, string> = {};

/** A picture with edges in every direction, so resampling differences would show. */
async function picture(name: string, width: number, height: number): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#e8e4d8"/>
    <circle cx="${width * 0.3}" cy="${height * 0.4}" r="${Math.min(width, height) * 0.2}" fill="#c0392b"/>
    <rect x="${width * 0.55}" y="${height * 0.1}" width="${width * 0.3}" height="${height * 0.5}" fill="#2471a3" transform="rotate(17 ${width * 0.7} ${height * 0.35})"/>
    <text x="${width * 0.1}" y="${height * 0.9}" font-size="${height * 0.12}" fill="#111">HXM 42</text></svg>`;
  const file = join(work, `${name}.png`);
  await sharp(Buffer.from(svg)).png().toFile(file);
  return file;
}

/** Runs Python with the engine package on the path; `script` reads argv[1] (JSON) and prints JSON. */
function python(script: string, input: unknown): unknown {
  const inputFile = join(work, 'py-input.json');
  writeFileSync(inputFile, JSON.stringify(input));
  const r = spawnSync(pythonPath(), ['-c', script, inputFile], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: enginePackageDir() },
    maxBuffer: 1 << 28,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
  prompts: [{ id: 'p0', images: [images.wide!], messages: [{ role: 'user', text: 'What color is the square? (A) red (B) blue' }] }],
  n: 1,
  temperature: 0,
  maxTokens: 8,
  seed: 1,
  keep: true,
  ...overrides,
});

before(async () => {
  images.wide = await picture('wide', 448, 300);
  images.small = await picture('small', 90, 130);
  images.exact = await picture('exact', 224, 224);
  await ensureTinyModel(modelDir, squareCorpus());
  const torch = createTorchEngine({ log: () => undefined, env: { IVGR_THREADS: '1' }, timeoutMs: 120_000 });
  try {
    await torch.load({ model: modelDir, seed: 0 });
    await torch.exportOnnx(exportDir);
  } finally {
    await torch.shutdown();
  }
  engine = createOrtEngine({ modelDir: exportDir, threads: 1 });
  await engine.load({ model: exportDir });
});

after(async () => {
  await engine?.shutdown();
  rmSync(work, { recursive: true, force: true });
});

describe('ORT engine inputs match the PyTorch engine', () => {
  it('image patches equal the Pillow-based processor for downscaled, upscaled and unscaled images', async () => {
    const spec = readManifest(exportDir).image;
    const paths = [images.wide!, images.small!, images.exact!];
    const want = python(
      `import json, sys
from transformers import AutoImageProcessor, AutoTokenizer
from ivgr_engine.prompts import PromptEncoder
a = json.load(open(sys.argv[1]))
out = []
for side in (224, 0):
    enc = PromptEncoder(AutoTokenizer.from_pretrained(a["model"]), AutoImageProcessor.from_pretrained(a["model"]), side)
    for p in a["paths"]:
        e = enc.encode("<|vision_start|><|image_pad|><|vision_end|>", [p], "t")
        out.append({"grid": e.grid_thw[0].tolist(), "pixels": e.pixel_values.flatten().tolist()})
print(json.dumps(out))`,
      { model: modelDir, paths },
    ) as Array<{ grid: number[]; pixels: number[] }>;
    let k = 0;
    for (const side of [224, 0]) {
      for (const p of paths) {
        const got = await prepareImage(p, { ...spec, side });
        const w = want[k++]!;
        assert.deepEqual(got.grid, w.grid, `${p} at side ${side}: patch grid`);
        assert.equal(got.pixels.length, w.pixels.length);
        let worst = 0;
        for (let i = 0; i < w.pixels.length; i++) worst = Math.max(worst, Math.abs(got.pixels[i]! - w.pixels[i]!));
        // Identical bytes after resizing; what remains is float32 rounding of the normalisation.
        assert.ok(worst < 1e-5, `${p} at side ${side}: largest pixel difference ${worst}`);
      }
    }
  });

  it('smart resize keeps sides on the patch grid and the area within bounds', () => {
    assert.deepEqual(smartResize(80, 120, 28, 224 * 224, 224 * 224), [196, 280]);
    assert.deepEqual(smartResize(2000, 3000, 28, 56 * 56, 28 * 28 * 1280), [812, 1204]);
    // Python's round() sends halves to the even neighbour: 70/28 = 2.5 -> 2.
    assert.deepEqual(smartResize(70, 70, 28, 28 * 28, 1e9), [56, 56]);
    assert.throws(() => smartResize(10, 2100, 28, 1, 1e9), /aspect ratio/);
  });

  it('token ids equal the Python tokenizer for chat text, trace tags, digits and unicode', () => {
    const texts = [
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What color is the square? (A) red (B) blue<|im_end|>\n<|im_start|>assistant\n',
      '<think>The square <box>[120,45,200,125]</box> is red.</think><answer>A</answer>',
      '<tool_call>{"name":"zoom_in","arguments":{"bbox_2d":[1,2,3,4]}}</tool_call>',
      'Zoomed view of [0,0,0,0].  Ünïcödé — 東京 😀 tabs\tand\nnewlines',
    ];
    const want = python(
      `import json, sys
from transformers import AutoTokenizer
a = json.load(open(sys.argv[1]))
tok = AutoTokenizer.from_pretrained(a["model"])
print(json.dumps([tok(t, add_special_tokens=False)["input_ids"] for t in a["texts"]]))`,
      { model: modelDir, texts },
    ) as number[][];
    const codec = new TextCodec(exportDir);
    texts.forEach((t, i) => {
      assert.deepEqual(codec.encode(t), want[i], `text ${i}`);
      assert.equal(codec.decode(codec.encode(t)), t, `text ${i} decodes back`);
    });
  });
});

describe('ORT engine generation', () => {
  it('sampling repeats with its seed and varies across seeds and samples', async () => {
    const sampled = request({ temperature: 1, topP: 0.9, n: 3, maxTokens: 12 });
    const a = await engine.generate(sampled);
    const b = await engine.generate(sampled);
    const c = await engine.generate({ ...sampled, seed: 2 });
    assert.deepEqual(
      a.samples.map((s) => s.text),
      b.samples.map((s) => s.text),
    );
    assert.notDeepEqual(
      a.samples.map((s) => s.text),
      c.samples.map((s) => s.text),
    );
    assert.ok(new Set(a.samples.map((s) => s.text)).size > 1, 'the n samples of a prompt differ');
    assert.deepEqual(
      a.samples.map((s) => s.rolloutId.split(':')[0]),
      ['p0', 'p0', 'p0'],
    );
    assert.ok(a.samples.every((s) => s.completionTokens === 12 || s.finish === 'stop'));
  });

  it('continue extends a kept rollout with a new image, and release forgets it', async () => {
    const g = await engine.generate(request());
    const s = g.samples[0]!;
    const next = await engine.continue({
      rolloutId: s.rolloutId,
      image: images.small!,
      text: 'Zoomed view of [1,2,3,4].',
      maxTokens: 6,
      temperature: 0,
      seed: 1,
      keep: true,
    });
    // The context grows by the generated tokens, the tool turn and the crop's 64 visual tokens.
    assert.ok(next.promptTokens > s.promptTokens + s.completionTokens + 64, `${next.promptTokens} tokens of context`);
    await engine.release([s.rolloutId]);
    await assert.rejects(
      engine.continue({ rolloutId: s.rolloutId, image: images.small!, text: 'x', maxTokens: 2, temperature: 0, seed: 1, keep: true }),
      (e: EngineError) => e.kind === 'unknown-rollout' && /unknown rollout id/.test(e.message),
    );
  });

  it('a cancelled call stops with a cancellation error', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(engine.generate(request(), { signal: ac.signal }), (e: EngineError) => e.kind === 'cancelled');
  });
});

describe('ORT engine errors', () => {
  it('training operations say the engine only evaluates', async () => {
    await assert.rejects(
      engine.update({
        items: [{ rolloutId: 'x', advantage: 1 }],
        clipEpsilon: 0.2,
        klBeta: 0,
        aggregation: 'token',
        microBatch: 1,
        maxGradNorm: 1,
      }),
      /only evaluates/,
    );
    await assert.rejects(engine.sftStep({ examples: [], microBatch: 1 }), /only evaluates/);
    await assert.rejects(engine.save(join(work, 'ck'), 1), /only evaluates/);
    await assert.rejects(engine.restore(join(work, 'ck')), /only evaluates/);
  });

  it('bad requests name the field and the problem', async () => {
    await assert.rejects(
      engine.generate(request({ prompts: [{ id: 'p', images: [join(work, 'missing.png')], messages: [{ role: 'user', text: 'hi' }] }] })),
      (e: EngineError) => e.kind === 'bad-image' && /images\[0\].*not found/.test(e.message),
    );
    await assert.rejects(
      engine.generate(request({ prompts: [{ id: 'p', images: [], messages: [{ role: 'user', text: 'a <|image_pad|> b' }] }] })),
      (e: EngineError) => e.kind === 'invalid-params' && /reserved token/.test(e.message),
    );
    await assert.rejects(engine.generate(request({ stop: ['two words'] })), /stop\[0\].*not a single token/);
    await assert.rejects(engine.generate(request({ maxTokens: 0 })), /maxTokens/);
    const broken = join(work, 'broken.png');
    writeFileSync(broken, 'not an image');
    await assert.rejects(
      engine.generate(request({ prompts: [{ id: 'p', images: [broken], messages: [{ role: 'user', text: 'hi' }] }] })),
      (e: EngineError) => e.kind === 'bad-image' && /cannot read image/.test(e.message),
    );
  });

  it('calls before load, and folders without a current export, are refused clearly', async () => {
    const bare = createOrtEngine({ modelDir: work });
    await assert.rejects(bare.generate(request()), (e: EngineError) => e.kind === 'not-loaded');
    await assert.rejects(bare.load({ model: work }), /manifest\.json not found.*not an ONNX export/);
    const manifest = JSON.parse(readFileSync(join(exportDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    const stale = join(work, 'stale');
    rmSync(stale, { recursive: true, force: true });
    spawnSync('cp', ['-r', exportDir, stale]);
    writeFileSync(join(stale, 'manifest.json'), JSON.stringify({ ...manifest, format: 99 }));
    await assert.rejects(
      createOrtEngine({ modelDir: stale }).load({ model: stale }),
      /manifest\.json: format.*export the checkpoint again/,
    );
  });

  it('the CUDA provider, when this onnxruntime-node lacks it, is refused with what to install', async () => {
    const gpu = createOrtEngine({ modelDir: exportDir, provider: 'cuda' });
    try {
      assert.equal((await gpu.load({ model: exportDir })).device, 'cuda');
    } catch (err) {
      assert.match((err as Error).message, /CUDA execution provider is not available.*onnxruntime-node-install=cuda12.*cpu provider/);
      return;
    } finally {
      await gpu.shutdown();
    }
  });
});
