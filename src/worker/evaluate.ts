/**
 * Evaluation in the three modes: textual (plain CoT), mandated grounded
 * (boxes required) and tool-assisted (the model may call `zoom_in`; the crop
 * is fed back through `engine.continue`, at most `maxToolCalls` times).
 * Decoding is greedy so a checkpoint's score does not depend on sampling luck.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { iou } from '../core/boxes';
import { answersMatch } from '../core/answers';
import { parseOptionsFor, parseTrace } from '../core/trace';
import type { Box, DatasetRecord, EvalMode, EvalRecord } from '../core/types';
import type { Engine, ModelInfo } from '../engine/engine';
import { promptMessages, questionText, zoomObservation } from './prompts';
import { zoomCrop } from './zoom';

export const EVAL_MODES: readonly EvalMode[] = ['textual', 'grounded', 'tool'];

export interface EvalOptions {
  checkpoint: string;
  split: string;
  maxTokens: number;
  maxToolCalls: number;
  seed: number;
  /** Folder for zoom crops. */
  workDir: string;
  /** Prompts per engine call; also the progress granularity. */
  chunk?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Mean over evidence boxes of the best IoU any produced box reaches; null without boxes or evidence. */
export function bestMatchIou(boxes: readonly Box[], evidence: readonly Box[]): number | null {
  if (boxes.length === 0 || evidence.length === 0) return null;
  const best = evidence.map((e) => Math.max(...boxes.map((b) => iou(b, e))));
  return best.reduce((a, b) => a + b, 0) / best.length;
}

interface Pending {
  record: DatasetRecord;
  /** Model text per turn; turns after the first follow a zoom. */
  turns: string[];
  /** Zoomed regions, original pixels. */
  boxes: Box[];
  toolCalls: number;
  rolloutId: string;
}

export async function evaluateMode(
  engine: Engine,
  info: ModelInfo,
  records: readonly DatasetRecord[],
  imageRoot: string,
  mode: EvalMode,
  opts: EvalOptions,
): Promise<EvalRecord[]> {
  const chunk = opts.chunk ?? 32;
  const out: EvalRecord[] = [];
  for (let start = 0; start < records.length; start += chunk) {
    const part = records.slice(start, start + chunk);
    const keep = mode === 'tool' && opts.maxToolCalls > 0;
    const t0 = performance.now();
    const gen = await engine.generate({
      prompts: part.map((r, i) => ({ id: String(start + i), images: [join(imageRoot, r.image)], messages: promptMessages(mode, r) })),
      n: 1,
      temperature: 0,
      maxTokens: opts.maxTokens,
      seed: opts.seed,
      keep,
    });
    const pending: Pending[] = gen.samples.map((s) => {
      const record = part[Number(s.promptId) - start]!;
      return { record, turns: [s.text], boxes: [], toolCalls: 0, rolloutId: s.rolloutId };
    });
    if (keep) await runTools(engine, info, pending, imageRoot, mode, opts);
    const seconds = (performance.now() - t0) / 1000 / Math.max(1, part.length);
    for (const p of pending) out.push(evalRecord(p, info, mode, opts, engine.kind, seconds));
    opts.onProgress?.(Math.min(records.length, start + chunk), records.length);
  }
  return out;
}

/** Follows zoom calls: crop, continue, until an answer appears or the call budget is spent. */
async function runTools(
  engine: Engine,
  info: ModelInfo,
  pending: Pending[],
  imageRoot: string,
  mode: EvalMode,
  opts: EvalOptions,
): Promise<void> {
  mkdirSync(opts.workDir, { recursive: true });
  const kept = pending.map((p) => p.rolloutId);
  try {
    for (const p of pending) {
      for (;;) {
        const parsed = parseTrace(p.turns.at(-1)!, parseOptionsFor(p.record, info));
        const call = parsed.toolCalls.find((c) => c.name === 'zoom_in' && c.box !== null);
        if (!call || parsed.answerText !== null || p.toolCalls >= opts.maxToolCalls) break;
        const box = call.box!;
        p.boxes.push(box);
        p.toolCalls += 1;
        const crop = join(opts.workDir, `${opts.checkpoint}-${mode}-${p.record.id}-${p.toolCalls}.png`.replace(/[^A-Za-z0-9._-]/g, '_'));
        await zoomCrop(join(imageRoot, p.record.image), box, info.imageSize, crop);
        const next = await engine.continue({
          rolloutId: p.rolloutId,
          image: crop,
          text: zoomObservation(box),
          maxTokens: opts.maxTokens,
          temperature: 0,
          seed: opts.seed,
          keep: true,
        });
        kept.push(next.rolloutId);
        p.rolloutId = next.rolloutId;
        p.turns.push(next.text);
      }
    }
  } finally {
    await engine.release([...new Set(kept)]);
  }
}

function evalRecord(
  p: Pending,
  info: ModelInfo,
  mode: EvalMode,
  opts: EvalOptions,
  engineKind: 'torch' | 'ort',
  seconds: number,
): EvalRecord {
  const r = p.record;
  // The answer is read from the last turn; boxes are the cited ones plus the zoomed regions.
  const last = parseTrace(p.turns.at(-1) ?? '', parseOptionsFor(r, info));
  const cited = p.turns.flatMap((t) => parseTrace(t, parseOptionsFor(r, info)).boxes);
  const boxes = [...cited, ...p.boxes];
  const correct = answersMatch(last.answerText, r.answer, r.options);
  return {
    v: 1,
    id: `${opts.checkpoint}:${mode}:${r.id}`,
    mode,
    checkpoint: opts.checkpoint,
    engine: engineKind,
    split: opts.split,
    promptId: r.id,
    image: r.image,
    question: questionText(r),
    output: p.turns.map((t, i) => (i === 0 ? t : `\n[${zoomObservation(p.boxes[i - 1]!)}]\n${t}`)).join(''),
    answer: last.answerText,
    expected: r.answer,
    correct,
    boxes,
    evidence: r.evidence,
    iou: bestMatchIou(boxes, r.evidence),
    toolCalls: p.toolCalls,
    time: seconds,
  };
}
