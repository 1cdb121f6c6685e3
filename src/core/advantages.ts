/**
 * GRPO advantages: each sample's reward relative to the other samples of its
 * group (same question, same stream).
 */

export interface AdvantageOptions {
  /** 'std': (r − mean) / (std + ε); 'mean-only': r − mean (Dr. GRPO style, no length/difficulty rescaling). */
  normalize: 'std' | 'mean-only';
  epsilon: number;
  /**
   * Standard deviation estimator. 'sample' (n − 1, Bessel) is what `torch.std`
   * computes by default and therefore what TRL and verl use; 'population' divides by n.
   */
  std?: 'sample' | 'population';
}

export const DEFAULT_ADVANTAGE_OPTIONS: AdvantageOptions = { normalize: 'std', epsilon: 1e-6, std: 'sample' };

/**
 * Group-relative advantages. A group whose rewards are all equal (including a
 * group of one) carries no signal and gets all-zero advantages.
 */
export function groupAdvantages(rewards: readonly number[], opts: AdvantageOptions): number[] {
  if (!Number.isFinite(opts.epsilon) || opts.epsilon < 0)
    throw new RangeError(`advantages: epsilon must be a finite number >= 0, got ${opts.epsilon}`);
  rewards.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new RangeError(`advantages: reward ${i} is not a finite number (${r})`);
  });
  const n = rewards.length;
  if (n === 0) return [];
  const first = rewards[0] as number;
  if (rewards.every((r) => r === first)) return rewards.map(() => 0);
  const m = rewards.reduce((s, r) => s + r, 0) / n;
  if (opts.normalize === 'mean-only') return rewards.map((r) => r - m);
  const denom = (opts.std ?? 'sample') === 'sample' ? n - 1 : n;
  const sd = Math.sqrt(rewards.reduce((s, r) => s + (r - m) * (r - m), 0) / denom);
  return rewards.map((r) => (r - m) / (sd + opts.epsilon));
}

export interface BatchStats {
  count: number;
  mean: number;
  /** Population standard deviation (divides by n): a description of the batch, not an estimate. */
  std: number;
  min: number;
  max: number;
}

/** Summary of a batch of values; an empty batch gives count 0 and zeros elsewhere. */
export function batchStats(values: readonly number[]): BatchStats {
  const n = values.length;
  if (n === 0) return { count: 0, mean: 0, std: 0, min: 0, max: 0 };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / n);
  return { count: n, mean, std, min, max };
}
