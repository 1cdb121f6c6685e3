/**
 * Reference traces for warm-start SFT. Both streams share one templated plan:
 * the textual trace names each piece of evidence with a location phrase, the
 * grounded trace adds the box in the model's coordinate convention.
 */
import { fromOriginal } from '../../core/boxes';
import { describeRegion } from '../../core/regions';
import type { Box, CoordConvention, ImageSize } from '../../core/types';

/** One sentence of reasoning, optionally citing a box right after its location phrase. */
export interface TraceSentence {
  /** Words before the location phrase (or the whole sentence when nothing is cited). */
  text: string;
  cite?: Box;
  /** Words after the location phrase, up to and including the full stop. */
  after?: string;
}

export interface TracePlan {
  sentences: TraceSentence[];
  answer: string;
}

/** A box written in `convention`: integers, except 'relative' which keeps three decimals. */
export function formatBox(box: Box, convention: CoordConvention, original: ImageSize): string {
  const values = fromOriginal(box, convention, original);
  const parts = values.map((v) => (convention === 'relative' ? String(Math.round(v * 1000) / 1000) : String(Math.round(v))));
  return `[${parts.join(',')}]`;
}

/**
 * One sentence as a trace writes it: a cited box's location phrase after its words, then the box
 * itself in `convention` (a grounded trace) or not (a textual one, `convention` null).
 */
export function renderSentence(s: TraceSentence, size: ImageSize, convention: CoordConvention | null): string {
  if (!s.cite) return s.text;
  const where = describeRegion(s.cite, size);
  const box = convention ? ` <box>${formatBox(s.cite, convention, size)}</box>` : '';
  return `${s.text} ${where}${box}${s.after ?? '.'}`;
}

function render(plan: TracePlan, size: ImageSize, convention: CoordConvention | null): string {
  const sentences = plan.sentences.map((s) => renderSentence(s, size, convention));
  return `<think>${sentences.join(' ')}</think><answer>${plan.answer}</answer>`;
}

export function textualTrace(plan: TracePlan, size: ImageSize): string {
  return render(plan, size, null);
}

export function groundedTrace(plan: TracePlan, size: ImageSize, convention: CoordConvention): string {
  return render(plan, size, convention);
}
