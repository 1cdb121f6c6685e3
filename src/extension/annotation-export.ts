/**
 * Export of a run's annotations as training data. Pure: the caller reads the event files and the
 * dataset, these functions decide what goes out.
 *
 * - SFT: approved traces (correct, annotated with no failure tag, or only "good"), as chat messages.
 * - DPO: for each annotated failure, the failing trace as `rejected` and the best correct trace of
 *   the same question and stream (approved ones first, then by score) as `chosen`.
 * - Failure cases: one dataset record per annotated failure, each corrected box the annotator drew
 *   replacing the evidence box it corrects, image paths resolving outside the run, so the set can
 *   be re-evaluated or trained on.
 */
import { matchBoxes } from '../core/boxes';
import { userTurn } from '../core/dump-text';
import { currentAnnotations } from '../core/protocol/webview';
import type { AnnotationRecord, Box, DatasetRecord, EvalRecord, ImageSize, RolloutRecord } from '../core/types';

export const APPROVAL_TAG = 'good';

export interface SftLine {
  id: string;
  image?: string;
  messages: Array<{ role: 'user' | 'assistant'; content: string }>;
}

export interface DpoLine {
  prompt: string;
  image?: string;
  chosen: string;
  rejected: string;
  meta: { promptId: string; chosenId: string; rejectedId: string; tags: string[]; note: string };
}

export interface ExportInput {
  annotations: readonly AnnotationRecord[];
  rollouts: readonly RolloutRecord[];
  evals: readonly EvalRecord[];
}

export interface ExportResult<T> {
  lines: T[];
  /** Annotated targets left out, with the reason. */
  skipped: string[];
}

type Target = { kind: 'rollout'; record: RolloutRecord } | { kind: 'eval'; record: EvalRecord };

interface Trace {
  id: string;
  promptId: string;
  prompt: string;
  output: string;
  image?: string;
  correct: boolean;
  score: number;
  group: string;
}

function trace(t: Target): Trace {
  if (t.kind === 'rollout') {
    const r = t.record;
    return {
      id: r.id,
      promptId: r.promptId,
      prompt: r.input,
      output: r.output,
      image: r.image,
      correct: r.correct,
      score: r.score,
      group: `rollout:${r.stream}`,
    };
  }
  const e = t.record;
  return {
    id: e.id,
    promptId: e.promptId,
    prompt: e.question,
    output: e.output,
    image: e.image,
    correct: e.correct,
    score: e.correct ? 1 : 0,
    group: `eval:${e.mode}`,
  };
}

function resolve(input: ExportInput): { pairs: Array<{ note: AnnotationRecord; target: Target }>; skipped: string[] } {
  const rollouts = new Map(input.rollouts.map((r) => [r.id, r]));
  const evals = new Map(input.evals.map((e) => [e.id, e]));
  const pairs: Array<{ note: AnnotationRecord; target: Target }> = [];
  const skipped: string[] = [];
  for (const note of currentAnnotations(input.annotations)) {
    const { kind, id } = note.target;
    const rollout = kind === 'rollout' ? rollouts.get(id) : undefined;
    const ev = kind === 'eval' ? evals.get(id) : undefined;
    if (rollout) pairs.push({ note, target: { kind: 'rollout', record: rollout } });
    else if (ev) pairs.push({ note, target: { kind: 'eval', record: ev } });
    else skipped.push(`${kind} ${id}: annotated, but no such record in the run`);
  }
  return { pairs, skipped };
}

export function isApproved(note: AnnotationRecord, correct: boolean): boolean {
  return correct && note.tags.every((t) => t === APPROVAL_TAG);
}

export function isFailure(note: AnnotationRecord, correct: boolean): boolean {
  return note.tags.some((t) => t !== APPROVAL_TAG) || !correct;
}

export function sftLines(input: ExportInput): ExportResult<SftLine> {
  const { pairs, skipped } = resolve(input);
  const lines: SftLine[] = [];
  for (const { note, target } of pairs) {
    const t = trace(target);
    if (!isApproved(note, t.correct)) continue;
    lines.push({
      id: t.id,
      ...(t.image ? { image: t.image } : {}),
      messages: [
        { role: 'user', content: t.prompt },
        { role: 'assistant', content: t.output },
      ],
    });
  }
  return { lines, skipped };
}

export function dpoLines(input: ExportInput): ExportResult<DpoLine> {
  const { pairs, skipped } = resolve(input);
  const approved = new Set(pairs.filter((p) => isApproved(p.note, trace(p.target).correct)).map((p) => trace(p.target).id));
  const failing = new Set(pairs.filter((p) => isFailure(p.note, trace(p.target).correct)).map((p) => trace(p.target).id));
  const candidates = new Map<string, Trace[]>();
  const all: Target[] = [
    ...input.rollouts.map((r) => ({ kind: 'rollout' as const, record: r })),
    ...input.evals.map((e) => ({ kind: 'eval' as const, record: e })),
  ];
  for (const t of all.map(trace)) {
    if (!t.correct || failing.has(t.id)) continue;
    const key = `${t.group}|${t.promptId}`;
    const list = candidates.get(key) ?? [];
    list.push(t);
    candidates.set(key, list);
  }
  const lines: DpoLine[] = [];
  for (const { note, target } of pairs) {
    const bad = trace(target);
    if (!isFailure(note, bad.correct)) continue;
    const pool = candidates.get(`${bad.group}|${bad.promptId}`) ?? [];
    const best = [...pool].sort(
      (a, b) => Number(approved.has(b.id)) - Number(approved.has(a.id)) || b.score - a.score || a.id.localeCompare(b.id),
    )[0];
    if (!best) {
      skipped.push(`${target.kind} ${bad.id}: no correct trace of question ${bad.promptId} to pair it with`);
      continue;
    }
    lines.push({
      prompt: bad.prompt,
      ...(bad.image ? { image: bad.image } : {}),
      chosen: best.output,
      rejected: bad.output,
      meta: { promptId: bad.promptId, chosenId: best.id, rejectedId: bad.id, tags: note.tags, note: note.note },
    });
  }
  return { lines, skipped };
}

export interface FailureSources {
  /** Dataset records by question id, when the run's dataset could be read. */
  dataset: ReadonlyMap<string, DatasetRecord>;
  /** Original size of an image named as the records name it, when known. */
  imageSize: (image: string) => ImageSize | undefined;
  /** The file of an image named as the records name it, when found: the export is read away from the run. */
  imagePath?: (image: string) => string | undefined;
}

const centre = (b: Box): [number, number] => [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];

/**
 * The evidence with the annotator's corrected boxes in: each corrected box replaces the evidence
 * box it overlaps most (one to one), else the nearest one not yet replaced; corrected boxes beyond
 * the evidence are added (labelled "corrected"). Evidence boxes no corrected box stands for stay.
 */
export function correctEvidence(
  evidence: readonly Box[],
  labels: readonly string[] | undefined,
  corrected: readonly Box[],
): { evidence: Box[]; labels?: string[]; replaced: number[] } {
  const out = evidence.slice();
  const outLabels = labels ? labels.slice() : undefined;
  const target = new Map<number, number>(matchBoxes(corrected.slice(), evidence.slice()).map((m) => [m.pred, m.gt]));
  const taken = new Set(target.values());
  corrected.forEach((c, i) => {
    if (target.has(i)) return;
    const [cx, cy] = centre(c);
    let best = -1;
    let bestDistance = Infinity;
    evidence.forEach((e, j) => {
      if (taken.has(j)) return;
      const [ex, ey] = centre(e);
      const d = Math.hypot(ex - cx, ey - cy);
      if (d < bestDistance) [best, bestDistance] = [j, d];
    });
    if (best >= 0) {
      target.set(i, best);
      taken.add(best);
    }
  });
  corrected.forEach((c, i) => {
    const j = target.get(i);
    if (j !== undefined) out[j] = c;
    else {
      out.push(c);
      outLabels?.push('corrected');
    }
  });
  return { evidence: out, ...(outLabels ? { labels: outLabels } : {}), replaced: [...taken].sort((a, b) => a - b) };
}

export function failureDataset(input: ExportInput, sources: FailureSources): ExportResult<DatasetRecord> {
  const { pairs, skipped } = resolve(input);
  const lines: DatasetRecord[] = [];
  const seen = new Set<string>();
  for (const { note, target } of pairs) {
    const t = trace(target);
    if (!isFailure(note, t.correct)) continue;
    const base = sources.dataset.get(t.promptId);
    const image = base?.image ?? t.image;
    const size = base ? { width: base.width, height: base.height } : image ? sources.imageSize(image) : undefined;
    if (!image || !size) {
      skipped.push(`${target.kind} ${t.id}: question ${t.promptId} has no known image and size`);
      continue;
    }
    const truth = base?.evidence ?? (target.kind === 'eval' ? target.record.evidence : []);
    const fixed = correctEvidence(truth, base?.evidenceLabels, note.correctedBoxes);
    const answer = base?.answer ?? target.record.expected;
    if (answer === undefined) {
      skipped.push(`${target.kind} ${t.id}: question ${t.promptId} has no known reference answer`);
      continue;
    }
    // One record per question: several failing traces of a question are one failure case.
    if (seen.has(t.promptId)) continue;
    seen.add(t.promptId);
    lines.push({
      id: t.promptId,
      image: sources.imagePath?.(image) ?? image,
      width: size.width,
      height: size.height,
      question: base?.question ?? (target.kind === 'eval' ? target.record.question : userTurn(t.prompt)),
      ...(base?.options ? { options: base.options } : {}),
      answer,
      evidence: fixed.evidence,
      ...(fixed.labels ? { evidenceLabels: fixed.labels } : {}),
      ...(base?.family ? { family: base.family } : {}),
      split: 'failures',
      meta: {
        source: `${target.kind}:${t.id}`,
        tags: note.tags.join(','),
        note: note.note,
        correctedBoxes: note.correctedBoxes.length > 0,
        ...(fixed.replaced.length > 0 ? { replacedEvidence: fixed.replaced.join(',') } : {}),
      },
    });
  }
  return { lines, skipped };
}

export function toJsonl(lines: readonly unknown[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length > 0 ? '\n' : '');
}
