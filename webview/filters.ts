/** Reading the filter bar's text inputs into a rollout filter. Pure, so bad input is tested. */
import type { RolloutFilter } from '../src/core/protocol/webview';

export type FieldResult = { ok: true; value: number | undefined } | { ok: false; error: string };

/** Empty text clears the bound; anything else must be a (whole, when `integer`) number. */
export function parseNumberField(text: string, integer: boolean): FieldResult {
  const t = text.trim();
  if (t === '') return { ok: true, value: undefined };
  const n = Number(t);
  if (!Number.isFinite(n)) return { ok: false, error: `"${t}" is not a number` };
  if (integer && !Number.isInteger(n)) return { ok: false, error: `"${t}" is not a whole number` };
  return { ok: true, value: n };
}

/** Returns a copy of `filter` with `key` set, or removed when `value` is undefined. */
export function withField<K extends keyof RolloutFilter>(
  filter: RolloutFilter,
  key: K,
  value: RolloutFilter[K] | undefined,
): RolloutFilter {
  const next = { ...filter };
  if (value === undefined || (Array.isArray(value) && value.length === 0) || value === '') delete next[key];
  else next[key] = value;
  return next;
}

/** A short description of the active filters, for the list header. */
export function describeFilter(f: RolloutFilter): string {
  const parts: string[] = [];
  if (f.stepMin !== undefined || f.stepMax !== undefined) parts.push(`step ${f.stepMin ?? '…'}–${f.stepMax ?? '…'}`);
  if (f.stream) parts.push(f.stream);
  if (f.correct !== undefined) parts.push(f.correct ? 'correct' : 'incorrect');
  if (f.rewardMin !== undefined || f.rewardMax !== undefined) parts.push(`reward ${f.rewardMin ?? '…'}–${f.rewardMax ?? '…'}`);
  if (f.hasBoxes !== undefined) parts.push(f.hasBoxes ? 'with boxes' : 'no boxes');
  if (f.tags?.length) parts.push(`tag ${f.tags.join('|')}`);
  if (f.text) parts.push(`“${f.text}”`);
  if (f.promptId) parts.push(`prompt ${f.promptId}`);
  return parts.join(', ');
}
