/**
 * Paired comparisons of two checkpoints on the same questions, and how often the consistency
 * term had a reference during RL. Intervals of two accuracies overlap long before a paired
 * test on the same questions stops telling them apart: McNemar's exact test looks only at the
 * questions where the two disagree.
 */
import type { EvalMode, EvalRecord, RolloutRecord } from './types';

export interface PairedTest {
  a: string;
  b: string;
  mode: EvalMode;
  /** Questions both checkpoints answered (matched by prompt id). */
  n: number;
  accuracyA: number;
  accuracyB: number;
  /** Questions only `a` got right, and only `b`. */
  onlyA: number;
  onlyB: number;
  /** Two-sided exact McNemar p-value (binomial test on the discordant questions). */
  p: number;
}

/** log C(n, k), exactly enough for n in the thousands. */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** Two-sided exact binomial p-value of seeing `k` or fewer of `n` (and as extreme above) at p = 1/2. */
export function mcnemarExact(onlyA: number, onlyB: number): number {
  const n = onlyA + onlyB;
  if (n === 0) return 1;
  const k = Math.min(onlyA, onlyB);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

function latestBy(records: readonly EvalRecord[], checkpoint: string, mode: EvalMode): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const r of records) if (r.checkpoint === checkpoint && r.mode === mode && r.dataset === undefined) out.set(r.promptId, r.correct);
  return out;
}

/** McNemar's test of checkpoint `a` against `b` in `mode`; null when they share no question. */
export function pairedTest(records: readonly EvalRecord[], a: string, b: string, mode: EvalMode): PairedTest | null {
  const ra = latestBy(records, a, mode);
  const rb = latestBy(records, b, mode);
  let n = 0;
  let rightA = 0;
  let rightB = 0;
  let onlyA = 0;
  let onlyB = 0;
  for (const [id, ca] of ra) {
    const cb = rb.get(id);
    if (cb === undefined) continue;
    n++;
    if (ca) rightA++;
    if (cb) rightB++;
    if (ca && !cb) onlyA++;
    if (cb && !ca) onlyB++;
  }
  if (n === 0) return null;
  return { a, b, mode, n, accuracyA: rightA / n, accuracyB: rightB / n, onlyA, onlyB, p: mcnemarExact(onlyA, onlyB) };
}

export interface ConsistencyFiring {
  /** RL questions (step × question) with a textual group. */
  questions: number;
  /** Of those, the ones where at least one high-quality grounded trace served as a reference. */
  fired: number;
  rate: number;
}

/** Share of RL questions whose textual stream had a consistency reference. */
export function consistencyFiring(rollouts: readonly RolloutRecord[]): ConsistencyFiring {
  const groups = new Map<string, boolean>();
  for (const r of rollouts) {
    if (r.stream !== 'textual') continue;
    const key = `${r.step}\u0000${r.promptId}`;
    groups.set(key, (groups.get(key) ?? false) || (r.references?.length ?? 0) > 0);
  }
  const fired = [...groups.values()].filter(Boolean).length;
  return { questions: groups.size, fired, rate: groups.size === 0 ? 0 : fired / groups.size };
}
