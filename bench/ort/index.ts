/**
 * ONNX Runtime engine against the PyTorch engine on CPU: the tiny built-in model (random
 * weights, ≈4 M parameters, 224×224 images → 64 visual tokens), exported once with
 * export_onnx, both engines loaded side by side with one compute thread each. Same prompts,
 * greedy decoding (both write the same tokens: checked), runs alternating A B A B.
 *
 *   time to first token: `generate` with maxTokens 1 (image preprocessing, vision encoder,
 *                        prefill and the first token), one prompt
 *   tokens/s:            new tokens / wall time of `generate`, one prompt × 64 tokens
 *                        ("Try prompt") and 32 prompts × 64 tokens (an evaluation chunk)
 *   start:               engine start and `load` (process + imports for PyTorch, sessions for ORT)
 *
 * Run: npm run bench -- ort   (or node --import tsx bench/ort/index.ts [reps])
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Engine, GenerateRequest } from '../../src/engine/engine';
import { squareImages, tinyCorpus } from '../tiny-inputs';
import { createOrtEngine } from '../../src/engine/ort';
import { createTorchEngine, ensureTinyModel } from '../../src/engine/torch';

const reps = Number(process.argv[2] ?? 5);
const work = join('bench', 'results', 'ort');
const modelDir = join(work, 'tiny');
const exportDir = join(work, 'onnx');
const TOKENS = 64;
mkdirSync(work, { recursive: true });

function request(imgs: string[], prompts: number, maxTokens: number): GenerateRequest {
  return {
    prompts: Array.from({ length: prompts }, (_, i) => ({
      id: `q${i}`,
      images: [imgs[i % imgs.length]!],
      messages: [
        {
          role: 'user' as const,
          text: `Question ${i}: what color is the small shape near the corner? (A) red (B) blue (C) green (D) yellow`,
        },
      ],
    })),
    n: 1,
    temperature: 0,
    maxTokens,
    seed: 1,
    keep: false,
  };
}

interface Measure {
  seconds: number;
  tokens: number;
  texts: string[];
}

async function measure(engine: Engine, req: GenerateRequest): Promise<Measure> {
  const t0 = performance.now();
  const r = await engine.generate(req);
  return {
    seconds: (performance.now() - t0) / 1000,
    tokens: r.samples.reduce((n, s) => n + s.completionTokens, 0),
    texts: r.samples.map((s) => s.text),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  // One image per prompt, as in an evaluation chunk.
  const imgs = await squareImages(work, 32);
  await ensureTinyModel(modelDir, tinyCorpus({ textual: false }));
  const torch = createTorchEngine({ log: () => undefined, env: { IVGR_THREADS: '1' } });
  const ort = createOrtEngine({ modelDir: exportDir, threads: 1 });
  try {
    let t0 = performance.now();
    await torch.load({ model: modelDir, seed: 0 });
    const torchStart = (performance.now() - t0) / 1000;
    await torch.exportOnnx(exportDir);
    t0 = performance.now();
    const info = await ort.load({ model: exportDir });
    const ortStart = (performance.now() - t0) / 1000;
    const workloads = [
      { name: 'time to first token, 1 prompt', req: request(imgs, 1, 1) },
      { name: `1 prompt × ${TOKENS} tokens`, req: request(imgs, 1, TOKENS) },
      { name: `32 prompts × ${TOKENS} tokens`, req: request(imgs, 32, TOKENS) },
    ];
    // One unmeasured call each, so first-call costs (allocations, thread pools) are not counted.
    for (const e of [torch, ort]) await e.generate(request(imgs, 2, 4));
    const results = new Map<string, { torch: Measure[]; ort: Measure[] }>();
    for (const w of workloads) results.set(w.name, { torch: [], ort: [] });
    for (let rep = 0; rep < reps; rep++) {
      for (const w of workloads) {
        const r = results.get(w.name)!;
        r.torch.push(await measure(torch, w.req));
        r.ort.push(await measure(ort, w.req));
      }
    }
    console.log(
      `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}`,
    );
    console.log(
      `model: ${info.architecture}, ${(info.parameters / 1e6).toFixed(2)}M parameters; ${reps} alternating runs, one thread per engine; medians\n`,
    );
    console.log('| workload | PyTorch engine | ORT engine | ORT / PyTorch |');
    console.log('|---|---|---|---|');
    for (const w of workloads) {
      const r = results.get(w.name)!;
      const same = r.torch.every((m, i) => JSON.stringify(m.texts) === JSON.stringify(r.ort[i]!.texts));
      if (!same) throw new Error(`${w.name}: the engines wrote different tokens`);
      const [ts, os_] = [median(r.torch.map((m) => m.seconds)), median(r.ort.map((m) => m.seconds))];
      if (w.req.maxTokens === 1) {
        console.log(`| ${w.name} | ${(ts * 1000).toFixed(0)} ms | ${(os_ * 1000).toFixed(0)} ms | ${(ts / os_).toFixed(2)}× faster |`);
      } else {
        const tokens = r.torch[0]!.tokens;
        console.log(
          `| ${w.name} (${tokens} new tokens) | ${(tokens / ts).toFixed(0)} tokens/s | ${(tokens / os_).toFixed(0)} tokens/s | ${(ts / os_).toFixed(2)}× |`,
        );
      }
    }
    console.log(
      `| start and load | ${torchStart.toFixed(2)} s | ${ortStart.toFixed(2)} s | ${(torchStart / ortStart).toFixed(0)}× faster |`,
    );
    console.log('\nsame greedy tokens from both engines: yes');
  } finally {
    await Promise.allSettled([torch.shutdown(), ort.shutdown()]);
  }
}

await main();
