/**
 * Answer-balanced RL order. A few RL steps see a few dozen questions; when their
 * correct answers lean one way ("left" twice as often as "right"), group-relative
 * advantages teach that lean as a prior. Spreading each answer evenly through the
 * epoch gives every stretch of consecutive questions the split's own mix.
 */
import type { DatasetRecord } from './types';

/** The correct answer's text, lower-cased: an option's text for multiple choice, so "left" as A and as C is one stratum. */
export function answerStratum(record: Pick<DatasetRecord, 'answer' | 'options'>): string {
  const letter = record.answer.trim().toUpperCase();
  const index = letter.length === 1 ? letter.charCodeAt(0) - 65 : -1;
  const option = record.options?.[index];
  return (option ?? record.answer).trim().toLowerCase();
}

/**
 * One order over all items of `groups` (each already shuffled). Item k of a group of n sits
 * at (k + u)/n with u = `jitter()` in [0, 1), and the order sorts by that place, so every
 * prefix of the order holds each group within a couple of items of its share.
 */
export function interleaveStrata(groups: readonly (readonly number[])[], jitter: () => number): number[] {
  const placed: { item: number; at: number }[] = [];
  for (const group of groups) group.forEach((item, k) => placed.push({ item, at: (k + jitter()) / group.length }));
  return placed.sort((a, b) => a.at - b.at).map((p) => p.item);
}
