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

function render(plan: TracePlan, size: ImageSize, cite: ((box: Box) => string) | null): string {
  const sentences = plan.sentences.map((s) => {
    if (!s.cite) return s.text;
    const where = describeRegion(s.cite, size);
    const box = cite ? ` <box>${cite(s.cite)}</box>` : '';
    return `${s.text} ${where}${box}${s.after ?? '.'}`;
  });
  return `<think>${sentences.join(' ')}</think><answer>${plan.answer}</answer>`;
}

export function textualTrace(plan: TracePlan, size: ImageSize): string {
  return render(plan, size, null);
}

export function groundedTrace(plan: TracePlan, size: ImageSize, convention: CoordConvention): string {
  return render(plan, size, (box) => formatBox(box, convention, size));
}
