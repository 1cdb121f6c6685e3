/**
 * Engine client overhead: the same generate + update steps (tiny model, 4 prompts × 8 samples ×
 * ≤ 64 tokens, one update over the 32 rollouts) called in-process in Python
 * (bench/engine/inprocess.py) and through the TypeScript client over JSON-RPC. Same weights,
 * seeds and batch, so both sides sample the same tokens (checked). Runs alternate A B A B to
 * spread machine noise; the overhead per call is also read directly as client wall time minus
 * the time the engine itself measured for the call. Target: ≤ 5 % on generate + update.
 *
 * Run: npm run bench -- engine   (or node --import tsx bench/engine/index.ts [reps] [dtype])
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { createTorchEngine, ensureTinyModel, pythonPath } from '../../src/engine/torch';
import type { Engine, GenerateRequest } from '../../src/engine/engine';
import { squareImages, tinyCorpus } from '../tiny-inputs';

const reps = Number(process.argv[2] ?? 10);
const dtype = (process.argv[3] ?? 'float32') as 'float32' | 'bfloat16';
const cfg = { prompts: 4, n: 8, maxTokens: 64, microBatch: 8, klBeta: 0 };
const work = join('bench', 'results', 'engine');
const modelDir = join(work, 'tiny');
mkdirSync(work, { recursive: true });

function request(imgs: string[], rep: number): GenerateRequest {
  return {
    prompts: Array.from({ length: cfg.prompts }, (_, i) => ({
      id: `q${i}`,
      images: [imgs[i % imgs.length]!],
      messages: [
        {
          role: 'user' as const,
          text: `Question ${i}: what color is the small shape near the corner? (A) red (B) blue (C) green (D) yellow`,
        },
      ],
    })),
    n: cfg.n,
    temperature: 1,
    topP: 1,
    maxTokens: cfg.maxTokens,
    seed: 100 + rep,
    keep: true,
  };
}

const advantage = (i: number) => (i % 3 === 0 ? 1 : -0.5);

interface Rep {
  generate: number;
  update: number;
  tokens: number;
  texts: string;
  engineGenerate?: number;
  engineUpdate?: number;
}

/** The in-process side: a Python process that runs one step per `step K` line (inprocess.py). */
class InProcess {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly lines: AsyncIterator<string>;

  constructor(imgs: string[]) {
    const args = ['bench/engine/inprocess.py', '--model', modelDir, '--images', ...imgs, '--config', JSON.stringify({ ...cfg, dtype })];
    this.child = spawn(pythonPath(), args, { stdio: ['pipe', 'pipe', 'ignore'] });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async next<T>(command?: string): Promise<T> {
    if (command) this.child.stdin.write(command + '\n');
    const r = await this.lines.next();
    if (r.done) throw new Error(`inprocess.py ended early (exit ${this.child.exitCode})`);
    return JSON.parse(r.value) as T;
  }

  close(): void {
    this.child.stdin.end();
  }
}

async function clientStep(engine: Engine, imgs: string[], rep: number): Promise<Rep> {
  let t = performance.now();
  const g = await engine.generate(request(imgs, rep));
  const tg = (performance.now() - t) / 1000;
  t = performance.now();
  const u = await engine.update({
    items: g.samples.map((s, i) => ({ rolloutId: s.rolloutId, advantage: advantage(i) })),
    clipEpsilon: 0.2,
    klBeta: cfg.klBeta,
    aggregation: 'token',
    microBatch: cfg.microBatch,
    maxGradNorm: 1,
  });
  const tu = (performance.now() - t) / 1000;
  const texts = createHash('sha256')
    .update(g.samples.map((s) => s.text).join('\u0000'))
    .digest('hex')
    .slice(0, 16);
  return {
    generate: tg,
    update: tu,
    tokens: g.samples.reduce((a, s) => a + s.completionTokens, 0),
    texts,
    engineGenerate: g.seconds,
    engineUpdate: u.seconds,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const imgs = await squareImages(work, 4);
await ensureTinyModel(modelDir, tinyCorpus({ textual: true }));
console.log(
  `machine: ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; node ${process.version}; dtype ${dtype}; ${reps} steps per run`,
);

const inproc = new InProcess(imgs);
const engine = createTorchEngine({ log: () => undefined });
const [ready] = await Promise.all([
  inproc.next<{ threads: number }>(),
  engine.load({ model: modelDir, learningRate: 1e-4, seed: 0, reference: false, dtype }),
]);
console.log(`engine threads: ${ready.threads}`);
const py: Rep[] = [];
const ts: Rep[] = [];
// Alternate single steps (in-process first on even steps, client first on odd ones).
for (let rep = 0; rep < reps; rep++) {
  if (rep % 2 === 0) {
    py.push(await inproc.next<Rep>(`step ${rep}`));
    ts.push(await clientStep(engine, imgs, rep));
  } else {
    ts.push(await clientStep(engine, imgs, rep));
    py.push(await inproc.next<Rep>(`step ${rep}`));
  }
}
const ops = await inproc.next<Record<string, number>>('ops');
inproc.close();
await engine.shutdown();
const same = py.every((p, i) => p.texts === ts[i]?.texts);
console.log(`same sampled tokens in-process and through the client: ${same ? 'yes' : 'NO'}`);

const row = (name: string, a: number, b: number) =>
  console.log(`| ${name} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(((b - a) / a) * 100).toFixed(1)} % |`);
console.log('\n| per step (median) | in-process s | client s | overhead |\n|---|---|---|---|');
row('generate (32 × ≤64 tokens)', median(py.map((r) => r.generate)), median(ts.map((r) => r.generate)));
row('update (32 rollouts)', median(py.map((r) => r.update)), median(ts.map((r) => r.update)));
row('generate + update', median(py.map((r) => r.generate + r.update)), median(ts.map((r) => r.generate + r.update)));

const transport = ts.flatMap((r) => [r.generate - (r.engineGenerate ?? 0), r.update - (r.engineUpdate ?? 0)]);
const step = median(ts.map((r) => r.generate + r.update));
console.log(
  `\ntransport per call (client wall − engine's own time): median ${(median(transport) * 1000).toFixed(2)} ms, max ${(Math.max(...transport) * 1000).toFixed(2)} ms = ${(((2 * median(transport)) / step) * 100).toFixed(2)} % of a step`,
);
console.log('\n| operation (tiny model, in-process, once) | seconds |\n|---|---|');
for (const [k, v] of Object.entries(ops)) console.log(`| ${k} | ${v.toFixed(3)} |`);
