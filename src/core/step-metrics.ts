/** Aggregates one RL step's rollout records into its metrics.jsonl line. */
import type { MetricsRecord, RewardTerm, RolloutRecord, Stream } from './types';

export interface StepTotals {
  step: number;
  time: number;
  kl: number;
  clipFraction: number;
  loss: number;
  gradNorm: number;
  /** Seconds spent generating (for tokens/s) and per phase. */
  phases: Record<string, number>;
  highQualityGrounded: number;
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function stepMetrics(rollouts: readonly RolloutRecord[], t: StepTotals): MetricsRecord {
  const reward: MetricsRecord['reward'] = {};
  const terms: MetricsRecord['terms'] = {};
  const accuracy: MetricsRecord['accuracy'] = {};
  const responseLength: MetricsRecord['responseLength'] = {};
  for (const stream of ['grounded', 'textual'] as Stream[]) {
    const rs = rollouts.filter((r) => r.stream === stream);
    if (rs.length === 0) continue;
    reward[stream] = mean(rs.map((r) => r.score));
    accuracy[stream] = mean(rs.map((r) => (r.correct ? 1 : 0)));
    responseLength[stream] = mean(rs.map((r) => r.tokens.completion));
    const byTerm: Partial<Record<RewardTerm, number>> = {};
    const names = new Set(rs.flatMap((r) => Object.keys(r.rewards) as RewardTerm[]));
    for (const term of names) {
      const vals = rs.map((r) => r.rewards[term]?.value).filter((v): v is number => typeof v === 'number');
      byTerm[term] = mean(vals);
    }
    terms[stream] = byTerm;
  }
  const completion = rollouts.reduce((a, r) => a + r.tokens.completion, 0);
  const gen = t.phases.generate ?? 0;
  return {
    v: 1,
    step: t.step,
    time: t.time,
    reward,
    terms,
    accuracy,
    kl: t.kl,
    clipFraction: t.clipFraction,
    loss: t.loss,
    gradNorm: t.gradNorm,
    responseLength,
    tokensPerSecond: gen > 0 ? completion / gen : 0,
    phases: t.phases,
    highQualityGrounded: t.highQualityGrounded,
  };
}
