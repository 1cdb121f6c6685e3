/**
 * What the consistency reward measured for one textual trace, for display: the reference map (the
 * 3×3 cell distribution of the high-quality grounded traces' boxes, normalised by its peak) and
 * the cells the textual trace's reasoning names, read as `localisationAgreement` reads them.
 */
import { attentionMap, reasoningText } from './rewards';
import { findRegionPhrases } from './regions';
import { parseTrace } from './trace';
import type { ImageSize, RolloutRecord } from './types';

export interface ConsistencyView {
  /** The grounded rollouts that served as references (those the record names, found among `grounded`). */
  references: string[];
  /** Per cell 0..8 (row-major), the references' weight relative to the busiest cell (0–1). */
  map: number[];
  /** Per cell, how many of the trace's region phrases name it. */
  named: number[];
}

export function consistencyView(textual: RolloutRecord, grounded: readonly RolloutRecord[], size: ImageSize): ConsistencyView {
  const ids = new Set(textual.references ?? []);
  const refs = grounded.filter((g) => ids.has(g.id)).map((g) => ({ id: g.id, answer: g.answer, boxes: g.boxes }));
  const raw = attentionMap(refs, size);
  const peak = Math.max(...raw);
  const named = new Array<number>(9).fill(0);
  const parse = parseTrace(textual.output, { convention: 'pixels', original: size });
  for (const p of findRegionPhrases(reasoningText(parse, textual.output))) for (const c of p.cells) named[c] = (named[c] ?? 0) + 1;
  return { references: refs.map((r) => r.id), map: raw.map((v) => (peak > 0 ? v / peak : 0)), named };
}
