/** Statistics for evaluation tables. */
import type { EvalMode, EvalRecord, EvalSummaryRow } from './types';

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * Wilson score interval for a binomial proportion (default z = 1.96, 95 %).
 * Chosen over the normal approximation p ± z·√(p(1−p)/n) because eval sets
 * are small and accuracies sit near 0 or 1, where the normal interval
 * collapses to zero width (p = 0 or 1) or leaves [0, 1]; Wilson stays inside
 * [0, 1] and keeps close to nominal coverage for small n.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): { low: number; high: number } {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`wilsonInterval: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must be an integer in [0, n=${n}], got ${successes}`);
  }
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

const MODE_ORDER: Record<EvalMode, number> = { textual: 0, grounded: 1, tool: 2 };
const collator = new Intl.Collator('en', { numeric: true });

/** IoU at or above which a sample counts as a localisation hit. */
export const HIT_IOU = 0.5;

/**
 * One row per checkpoint × mode × engine × dataset (one named dataset, or all of a run's): n, accuracy with its Wilson 95 %
 * interval, mean IoU and hit-rate@0.5 over the samples that produced a box
 * (null when none did). A sample evaluated twice under the same checkpoint,
 * mode, engine and dataset counts once, by its latest record. Rows are ordered by
 * checkpoint (numeric-aware), dataset (all first), mode (textual, grounded, tool), engine.
 */
export function summarizeEval(records: readonly EvalRecord[]): EvalSummaryRow[] {
  const latest = new Map<string, EvalRecord>();
  for (const r of records) latest.set(JSON.stringify([r.checkpoint, r.mode, r.engine, r.dataset ?? null, r.split, r.promptId]), r);
  const groups = new Map<string, EvalRecord[]>();
  for (const r of latest.values()) {
    const key = JSON.stringify([r.checkpoint, r.mode, r.engine, r.dataset ?? null]);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const rows: EvalSummaryRow[] = [];
  for (const g of groups.values()) {
    const head = g[0] as EvalRecord;
    const correct = g.filter((r) => r.correct).length;
    const ci = wilsonInterval(correct, g.length);
    const ious = g.map((r) => r.iou).filter((v): v is number => v !== null);
    rows.push({
      checkpoint: head.checkpoint,
      mode: head.mode,
      engine: head.engine,
      ...(head.dataset !== undefined ? { dataset: head.dataset } : {}),
      n: g.length,
      accuracy: correct / g.length,
      ciLow: ci.low,
      ciHigh: ci.high,
      meanIou: ious.length > 0 ? mean(ious) : null,
      hitRate: ious.length > 0 ? ious.filter((v) => v >= HIT_IOU).length / ious.length : null,
    });
  }
  return rows.sort(
    (a, b) =>
      collator.compare(a.checkpoint, b.checkpoint) ||
      (a.dataset === undefined ? -1 : 0) + (b.dataset === undefined ? 1 : 0) ||
      collator.compare(a.dataset ?? '', b.dataset ?? '') ||
      MODE_ORDER[a.mode] - MODE_ORDER[b.mode] ||
      a.engine.localeCompare(b.engine),
  );
}
