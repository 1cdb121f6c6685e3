/**
 * A recorded run for the panel harness and benchmarks: rollouts of both streams with boxes, zoom
 * tool calls and hostile text, metrics, evaluation samples and summary, and real PNG images made
 * with sharp (one 8K) in a dataset folder.
 */
import { mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { AnnotationRecord, Box, EvalRecord, EvalSummaryRow, MetricsRecord, RolloutRecord, Stream } from '../../../src/core/types';
import { DEFAULT_ANNOTATION_TAGS } from '../../../src/extension/annotation-tags';

export interface FixturePrompt {
  id: string;
  image: string;
  width: number;
  height: number;
  question: string;
  answer: string;
  evidence: Box[];
  labels: string[];
}

/** Payloads that would run script if the panel ever treated model text as HTML. */
export const XSS = [
  '<script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 2">',
  '<a href="javascript:window.__pwned = 3">click</a>',
  '<svg onload="window.__pwned = 4"></svg>',
  '"><iframe srcdoc="<script>parent.__pwned = 5</script>">',
];

/** The tags the extension offers by default (setting ivgr.annotation.tags). */
export const TAGS = [...DEFAULT_ANNOTATION_TAGS];

export function prompts(n: number, bigImage: boolean): FixturePrompt[] {
  return Array.from({ length: n }, (_, i) => {
    const big = bigImage && i === 0;
    const width = big ? 7680 : 640;
    const height = big ? 4320 : 480;
    const x = big ? 5200 : 60 + ((i * 97) % 420);
    const y = big ? 2900 : 50 + ((i * 61) % 300);
    const s = big ? 360 : 90;
    return {
      id: `q${i}`,
      image: `images/q${i}.png`,
      width,
      height,
      question: `What colour is the small sign? ${i === 1 ? XSS[0] : ''}`.trim(),
      answer: 'ABCD'[i % 4]!,
      evidence: [[x, y, x + s, y + s]],
      labels: ['sign'],
    };
  });
}

/** Deterministic pseudo-random numbers so runs and benchmarks are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function makeRollout(n: number, step: number, stream: Stream, p: FixturePrompt, sample: number, rand: () => number): RolloutRecord {
  const correct = rand() < 0.3 + step * 0.02;
  const answer = correct ? p.answer : 'ABCD'[('ABCD'.indexOf(p.answer) + 1 + Math.floor(rand() * 3)) % 4]!;
  const ev = p.evidence[0]!;
  const jitter = (v: number) => Math.round(v + (rand() - 0.5) * (p.width / 10));
  const box: Box = [jitter(ev[0]), jitter(ev[1]), jitter(ev[2]), jitter(ev[3])].map((v, i) =>
    Math.max(0, Math.min(i % 2 ? p.height : p.width, v)),
  ) as Box;
  if (box[2] <= box[0]) box[2] = box[0] + 10;
  if (box[3] <= box[1]) box[3] = box[1] + 10;
  const hostile = n % 7 === 3 ? ` ${XSS[n % XSS.length]}` : '';
  let output: string;
  let boxes: Box[] = [];
  if (stream === 'grounded') {
    const tool = n % 5 === 0;
    boxes = [box];
    output =
      `<think>The question asks about the sign. It appears at <box>[${box.join(', ')}]</box> in the image.` +
      (tool
        ? ` Let me look closer. <tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [${box.join(', ')}]}}</tool_call> The crop shows the colours clearly.`
        : '') +
      ` Comparing with the options, option ${answer} matches.${hostile}</think>\n<answer>${answer}</answer>`;
  } else {
    output = `<think>The sign is near the bottom-right corner; its colour matches option ${answer}.${hostile}</think>\n<answer>${answer}</answer>`;
  }
  const acc = correct ? 1 : 0;
  const grounding = stream === 'grounded' ? Math.round(rand() * 100) / 100 : undefined;
  const consistency = stream === 'textual' ? Math.round(rand() * 100) / 100 : undefined;
  const score = acc + 0.5 + (grounding ?? consistency ?? 0) * 0.5;
  return {
    v: 1,
    id: `r${n}-${stream[0]}${step}-${p.id}-${sample}`,
    step,
    stream,
    promptId: p.id,
    sample,
    input: p.question,
    output,
    score,
    image: p.image,
    answer,
    correct,
    boxes,
    rewards: {
      accuracy: {
        value: acc,
        weight: 1,
        explanation: correct ? `answer ${answer} matches ${p.answer}` : `answer ${answer}, expected ${p.answer}`,
      },
      format: { value: 1, weight: 0.5, explanation: 'one <think> block, one <answer>' },
      ...(grounding !== undefined
        ? { grounding: { value: grounding, weight: 0.5, explanation: `best IoU ${grounding.toFixed(2)} with evidence 1` } }
        : {}),
      ...(consistency !== undefined
        ? {
            consistency: {
              value: consistency,
              weight: 0.5,
              explanation: `mentions the region of ${Math.round(consistency * 4)} of 4 good grounded traces`,
            },
          }
        : {}),
    },
    advantage: Math.round((rand() * 2 - 1) * 1000) / 1000,
    tokens: { prompt: 120, completion: 40 + Math.floor(rand() * 40) },
    finish: 'stop',
    time: 1_750_000_000_000 + n,
  };
}

export function makeMetrics(step: number): MetricsRecord {
  const t = step / 10;
  return {
    v: 1,
    step,
    time: 1_750_000_000_000 + step * 1000,
    reward: { grounded: 1 + t * 0.1 + Math.sin(step) * 0.05, textual: 0.9 + t * 0.12 },
    terms: {
      grounded: { accuracy: 0.4 + t * 0.05, format: 0.95, grounding: 0.3 + t * 0.04 },
      textual: { accuracy: 0.35 + t * 0.06, format: 0.97, consistency: 0.2 + t * 0.05 },
    },
    accuracy: { grounded: 0.4 + t * 0.05, textual: 0.35 + t * 0.06 },
    kl: 0.001 * step,
    clipFraction: 0.05 + 0.01 * Math.cos(step),
    loss: 0.1,
    gradNorm: 0.5,
    responseLength: { grounded: 80 - step, textual: 60 - step / 2 },
    tokensPerSecond: 900 + step * 3,
    phases: { generate: 1, score: 0.1, update: 0.5, write: 0.01 },
    highQualityGrounded: 2,
  };
}

export interface FixtureRun {
  runDir: string;
  datasetDir: string;
  prompts: FixturePrompt[];
  rollouts: RolloutRecord[];
  evals: EvalRecord[];
}

export interface FixtureOptions {
  steps?: number;
  prompts?: number;
  samples?: number;
  bigImage?: boolean;
  /** Run id and folder name under `root` (default: id "fixture-run" in `root/run`). */
  id?: string;
  name?: string;
  /** An existing fixture dataset folder to train on instead of writing `root/dataset`. */
  dataset?: string;
  /** Seed of the sampled answers and rewards, so a second run on the same data differs. */
  seed?: number;
}

/** Writes a small, complete run: `steps` steps × prompts × 2 streams × `samples`. */
export async function writeFixtureRun(root: string, opts: FixtureOptions = {}): Promise<FixtureRun> {
  const steps = opts.steps ?? 6;
  const ps = prompts(opts.prompts ?? 4, opts.bigImage ?? true);
  const samples = opts.samples ?? 4;
  const runDir = join(root, opts.id ?? 'run');
  const datasetDir = opts.dataset ?? join(root, 'dataset');
  mkdirSync(join(runDir, 'events'), { recursive: true });
  // The dataset path in the config is what tells runs on the same data apart from the others.
  writeFileSync(
    join(runDir, 'run.json'),
    JSON.stringify({
      id: opts.id ?? 'fixture-run',
      name: opts.name ?? 'fixture run',
      status: 'running',
      config: { dataset: { path: datasetDir } },
    }),
  );
  if (!opts.dataset) {
    mkdirSync(join(datasetDir, 'images'), { recursive: true });
    writeFileSync(join(datasetDir, 'dataset.jsonl'), ps.map((q) => JSON.stringify(q)).join('\n') + '\n');
    await Promise.all(ps.map((p) => image(p, join(datasetDir, p.image))));
  }
  const rand = rng(opts.seed ?? 7);
  const rollouts: RolloutRecord[] = [];
  let n = 0;
  for (let step = 1; step <= steps; step++)
    for (const p of ps)
      for (const stream of ['grounded', 'textual'] as const)
        for (let s = 0; s < samples; s++) rollouts.push(makeRollout(n++, step, stream, p, s, rand));
  writeFileSync(join(runDir, 'events', 'rollouts.jsonl'), rollouts.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(
    join(runDir, 'events', 'metrics.jsonl'),
    Array.from({ length: steps }, (_, i) => JSON.stringify(makeMetrics(i + 1))).join('\n') + '\n',
  );
  const evals: EvalRecord[] = [];
  for (const checkpoint of ['step-3', 'step-6'])
    for (const mode of ['textual', 'grounded', 'tool'] as const)
      for (const p of ps) {
        const correct = rand() < (checkpoint === 'step-6' ? 0.7 : 0.4);
        const ev = p.evidence[0]!;
        const boxes: Box[] = mode === 'textual' ? [] : [[ev[0] + 5, ev[1] + 5, ev[2] + 10, ev[3]]];
        evals.push({
          v: 1,
          id: `e-${checkpoint}-${mode}-${p.id}`,
          mode,
          checkpoint,
          engine: 'torch',
          split: 'val',
          promptId: p.id,
          image: p.image,
          question: p.question,
          output:
            mode === 'tool'
              ? `<think>Zoom first. <tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [${ev.join(', ')}]}}</tool_call> It is clear now.</think><answer>${p.answer}</answer>`
              : `<think>Looking${mode === 'grounded' ? ` at <box>[${boxes[0]!.join(', ')}]</box>` : ''} the sign is red. ${XSS[1]}</think><answer>${correct ? p.answer : 'Z'}</answer>`,
          answer: correct ? p.answer : 'Z',
          expected: p.answer,
          correct,
          boxes,
          evidence: p.evidence,
          iou: mode === 'textual' ? null : 0.6,
          toolCalls: mode === 'tool' ? 1 : 0,
          time: 1,
        });
      }
  writeFileSync(join(runDir, 'events', 'eval.jsonl'), evals.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const summary: EvalSummaryRow[] = [];
  for (const checkpoint of ['step-3', 'step-6'])
    for (const mode of ['textual', 'grounded', 'tool'] as const) {
      const rs = evals.filter((e) => e.checkpoint === checkpoint && e.mode === mode);
      const acc = rs.filter((e) => e.correct).length / rs.length;
      summary.push({
        checkpoint,
        mode,
        engine: 'torch',
        n: rs.length,
        accuracy: acc,
        ciLow: Math.max(0, acc - 0.2),
        ciHigh: Math.min(1, acc + 0.2),
        meanIou: mode === 'textual' ? null : 0.6,
        hitRate: mode === 'textual' ? null : 0.75,
      });
    }
  writeFileSync(join(runDir, 'eval-summary.json'), JSON.stringify({ v: 1, split: 'val', rows: summary }));
  return { runDir, datasetDir, prompts: ps, rollouts, evals };
}

async function image(p: FixturePrompt, file: string): Promise<void> {
  const ev = p.evidence[0]!;
  const shapes = `<svg width="${p.width}" height="${p.height}" xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="#5b7a99"/><rect x="${p.width * 0.1}" y="${p.height * 0.6}" width="${p.width * 0.5}" height="${p.height * 0.3}" fill="#7a5b3c"/><rect x="${ev[0]}" y="${ev[1]}" width="${ev[2] - ev[0]}" height="${ev[3] - ev[1]}" fill="#d0312d"/><circle cx="${p.width * 0.8}" cy="${p.height * 0.2}" r="${p.height * 0.08}" fill="#f2d64b"/></svg>`;
  await sharp(Buffer.from(shapes)).png({ compressionLevel: 1 }).toFile(file);
}

/** Streams `n` synthetic rollouts to a file without holding them (benchmarks with 1M rows). */
export async function writeManyRollouts(file: string, n: number, perStep = 64): Promise<void> {
  const ps = prompts(16, false);
  const rand = rng(11);
  const out = createWriteStream(file);
  let chunk: string[] = [];
  for (let i = 0; i < n; i++) {
    const step = Math.floor(i / perStep) + 1;
    const p = ps[Math.floor(i / 8) % ps.length]!;
    chunk.push(JSON.stringify(makeRollout(i, step, (i >> 2) % 2 ? 'textual' : 'grounded', p, i % 4, rand)));
    if (chunk.length === 5000) {
      if (!out.write(chunk.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = [];
    }
  }
  if (chunk.length) out.write(chunk.join('\n') + '\n');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The annotation records the panel saved to a run, oldest first. */
export function savedAnnotations(runDir: string): AnnotationRecord[] {
  return readFileSync(join(runDir, 'events', 'annotations.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AnnotationRecord);
}
