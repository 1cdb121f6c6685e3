/** The reward configuration a run config asks for, defaults filled and checked. */
import { DEFAULT_REWARD_CONFIG, validateRewardConfig, type RewardConfig } from '../core/rewards';
import type { RunConfig } from './config-schema';

export function rewardConfigOf(config: RunConfig): RewardConfig {
  const r = config.rewards;
  return validateRewardConfig({
    ...DEFAULT_REWARD_CONFIG,
    weights: { accuracy: r.accuracy, format: r.format, grounding: r.grounding, consistency: r.consistency, tool: r.tool },
    highQuality: { minIoU: r.highQualityMinIoU },
    consistencyAlpha: r.consistencyAlpha,
  });
}
