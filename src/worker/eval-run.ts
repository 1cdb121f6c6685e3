/**
 * Evaluates checkpoints of a run: restores each into the engine, runs the
 * requested modes on a split, appends per-sample records to events/eval.jsonl
 * and rewrites eval-summary.json from every eval record of that split.
 *
 * Either engine evaluates. Given the ORT engine, a checkpoint is read from its
 * ONNX export; given the PyTorch engine while ONNX Runtime is asked for (the
 * run config's `engine: ort`), the PyTorch engine exports the weights first.
 */
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeEval } from '../core/stats';
import type { DatasetRecord, EvalMode, EvalRecord, EvalSummaryRow } from '../core/types';
import type { Engine, ModelInfo } from '../engine/engine';
import { checkpointDigest, createOrtEngine, onnxExportCurrent, onnxExportDir } from '../engine/ort';
import type { ConsistencyFiring, PairedTest } from '../core/paired-tests';
import { readAll } from '../run/jsonl-reader';
import { runPaths } from '../run/run-dir';
import type { EventSink } from './event-sink';
import { evaluateMode } from './evaluate';
import type { RunData } from './run-inputs';

export interface EvalSummary {
  v: 1;
  split: string;
  rows: EvalSummaryRow[];
  /** Paired tests between checkpoints on the same questions (the demo writes them). */
  paired?: PairedTest[];
  /** Share of RL questions whose consistency term had a reference (the demo writes it). */
  consistency?: ConsistencyFiring;
}

export interface EvalTarget {
  /** Name of the checkpoint in the table ("sft", "step-40", …). */
  label: string;
  /** Checkpoint folder to restore first; null evaluates the engine's current weights. */
  dir: string | null;
}

export interface EvalRunOptions {
  labels: EvalTarget[];
  modes: readonly EvalMode[];
  split: string;
  /** Only this dataset of a run with several (default: all of them). */
  dataset?: string;
  /** Use only the first `limit` questions of the split (0 = all). */
  limit: number;
  events: EventSink;
  log: (text: string) => void;
  onProgress?: (label: string, done: number, total: number) => void;
  maxTokens?: number;
  maxToolCalls?: number;
  seed?: number;
  /** The engine that evaluates (default: the run config's `engine`). */
  engine?: 'torch' | 'ort';
  /** ONNX Runtime execution provider when the ORT engine is started here (default cpu). */
  provider?: 'cpu' | 'cuda';
}

/** Export folder for the live weights when evaluation on ONNX Runtime runs inside training. */
const LIVE_EXPORT = 'eval-onnx';

interface Evaluator {
  engine: Engine;
  info: ModelInfo;
  /** Shuts an engine started here down; nothing for the caller's engine. */
  close: () => Promise<void>;
}

/** Puts the target's weights into an engine of the wanted kind. */
async function evaluatorFor(
  runDir: string,
  engine: Engine,
  info: ModelInfo,
  target: EvalTarget,
  want: 'torch' | 'ort',
  opts: EvalRunOptions,
): Promise<Evaluator> {
  const keep = async () => undefined;
  if (engine.kind === 'ort') {
    // The caller's ORT engine; a checkpoint is read from its export.
    return { engine, info: target.dir ? await engine.load({ model: onnxExportDir(target.dir) }) : info, close: keep };
  }
  if (target.dir) await engine.restore(target.dir);
  if (want === 'torch') return { engine, info, close: keep };
  if (!engine.exportOnnx) throw new Error(`the ${engine.kind} engine cannot export ONNX for evaluation on ONNX Runtime`);
  let dir = join(runDir, LIVE_EXPORT);
  if (target.dir) {
    dir = onnxExportDir(target.dir);
    if (!(await onnxExportCurrent(target.dir))) await engine.exportOnnx(dir, await checkpointDigest(target.dir));
  } else {
    await engine.exportOnnx(dir);
  }
  const ort = createOrtEngine({ modelDir: dir, provider: opts.provider ?? 'cpu', log: (line) => opts.log(line) });
  try {
    return { engine: ort, info: await ort.load({ model: dir }), close: () => ort.shutdown() };
  } catch (err) {
    await ort.shutdown();
    throw err;
  }
}

export async function evaluateCheckpoints(
  runDir: string,
  engine: Engine,
  info: ModelInfo,
  data: RunData,
  opts: EvalRunOptions,
): Promise<EvalRecord[]> {
  const all = await data.split(opts.split, opts.dataset);
  const records: DatasetRecord[] = opts.limit > 0 ? all.slice(0, opts.limit) : all;
  if (records.length === 0) throw new Error(`split '${opts.split}' of ${data.path} has no questions`);
  const out: EvalRecord[] = [];
  const want = opts.engine ?? data.config.engine;
  for (const target of opts.labels) {
    const ev = await evaluatorFor(runDir, engine, info, target, want, opts);
    try {
      await evaluateTarget(runDir, ev, records, data, target, opts, out);
    } finally {
      await ev.close();
    }
  }
  await writeEvalSummary(runDir, opts.split);
  return out;
}

/** Runs every mode on one target and appends its records. */
async function evaluateTarget(
  runDir: string,
  ev: Evaluator,
  records: DatasetRecord[],
  data: RunData,
  target: EvalTarget,
  opts: EvalRunOptions,
  out: EvalRecord[],
): Promise<void> {
  for (const mode of opts.modes) {
    const t0 = performance.now();
    const rs = await evaluateMode(ev.engine, ev.info, records, data.root, mode, {
      checkpoint: target.label,
      split: opts.split,
      maxTokens: opts.maxTokens ?? data.config.maxTokens,
      maxToolCalls: opts.maxToolCalls ?? data.config.maxToolCalls,
      seed: opts.seed ?? data.config.seed,
      workDir: join(runDir, 'eval-crops'),
      onProgress: (done, total) => opts.onProgress?.(`eval ${target.label}/${mode}`, done, total),
    });
    // Only a run with several datasets tells one of them apart from all.
    const dataset = data.datasets.length > 1 ? opts.dataset : undefined;
    const tagged = dataset !== undefined ? rs.map((r) => ({ ...r, dataset })) : rs;
    for (const r of tagged) opts.events.append('eval', r);
    opts.events.flush();
    out.push(...tagged);
    const acc = rs.filter((r) => r.correct).length / rs.length;
    opts.log(
      `eval ${target.label} ${mode} on ${opts.split} (${ev.engine.kind}): accuracy ${(acc * 100).toFixed(1)}% (n=${rs.length}, ${((performance.now() - t0) / 1000).toFixed(1)}s)`,
    );
  }
}

/** Summarizes every eval record of `split` in the run into eval-summary.json and returns it. */
export async function writeEvalSummary(
  runDir: string,
  split: string,
  extra: Pick<EvalSummary, 'paired' | 'consistency'> = {},
): Promise<EvalSummary> {
  const { records } = await readAll<EvalRecord>(runPaths(runDir).event('eval'));
  // Records written before evaluation could run on ONNX Runtime carry no engine: PyTorch made them.
  const tagged = records.filter((r) => r.split === split).map((r) => (r.engine ? r : { ...r, engine: 'torch' as const }));
  const summary: EvalSummary = { v: 1, split, rows: summarizeEval(tagged), ...extra };
  const file = runPaths(runDir).evalSummary;
  writeFileSync(`${file}.tmp`, JSON.stringify(summary, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return summary;
}

/** The evaluation table as aligned text; `byDataset` (a run with several datasets) adds the dataset column ("all" for every one). */
export function formatEvalTable(rows: readonly EvalSummaryRow[], opts: { byDataset?: boolean } = {}): string {
  const pct = (v: number): string => (v * 100).toFixed(1);
  const byDataset = opts.byDataset === true;
  const header = ['checkpoint', ...(byDataset ? ['dataset'] : []), 'mode', 'engine', 'n', 'acc %', '95% CI', 'mean IoU', 'hit@0.5'];
  const body = rows.map((r) => [
    r.checkpoint,
    ...(byDataset ? [r.dataset ?? 'all'] : []),
    r.mode,
    r.engine ?? 'torch',
    String(r.n),
    pct(r.accuracy),
    `${pct(r.ciLow)}–${pct(r.ciHigh)}`,
    r.meanIou === null ? '-' : r.meanIou.toFixed(3),
    r.hitRate === null ? '-' : pct(r.hitRate),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const text = byDataset ? 4 : 3;
  const line = (cells: string[]): string => cells.map((c, i) => (i < text ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
