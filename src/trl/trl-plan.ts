/**
 * How a run config maps onto TRL's GRPOTrainer: one generation batch per step holding every
 * question's enabled streams, each stream prompt sampled `groupSize` times (TRL's group), so the
 * consistency term sees the grounded completions of the same question in the same step.
 */
import type { RunConfig } from '../run/config-schema';
import { trlSchema, type TrlConfig } from '../run/trl-schema';
import type { Stream } from '../core/types';

export class TrlConfigError extends Error {}

export interface TrlPlan {
  trl: TrlConfig;
  streams: Stream[];
  /** TRL's num_generations: samples per (question, stream) prompt. */
  groupSize: number;
  temperature: number;
  /** Completions per process per step (per_device_train_batch_size). */
  perDeviceBatch: number;
  /** Prompts per generation batch over all processes (questions × streams). */
  promptsPerStep: number;
}

/** Checks that the run config can be trained by TRL as iVGR trains it; throws naming the field. */
export function trlPlan(config: RunConfig): TrlPlan {
  const trl = config.trl ?? trlSchema.parse({});
  const streams = (['grounded', 'textual'] as const).filter((s) => config.streams[s].enabled);
  if (streams.length === 0) throw new TrlConfigError('streams: enable at least one of grounded and textual');
  const [first, ...rest] = streams.map((s) => config.streams[s]);
  for (const [i, s] of rest.entries()) {
    const name = streams[i + 1]!;
    if (s.groupSize !== first!.groupSize)
      throw new TrlConfigError(
        `streams.${name}.groupSize: TRL samples every prompt the same number of times; set it to ${first!.groupSize} like streams.${streams[0]}.groupSize`,
      );
    if (s.temperature !== first!.temperature)
      throw new TrlConfigError(
        `streams.${name}.temperature: TRL samples with one temperature; set it to ${first!.temperature} like streams.${streams[0]}.temperature`,
      );
  }
  if (config.sft.steps > 0)
    throw new TrlConfigError(
      'sft.steps: the warm start runs on the ivgr trainer; run it there and point initFrom at its checkpoint (or set sft.steps: 0)',
    );
  if (trl.distributed === 'none' && trl.processes * trl.machines > 1)
    throw new TrlConfigError('trl.distributed: several processes need ddp, deepspeed-zero2, deepspeed-zero3 or fsdp');
  const world = trl.processes * trl.machines;
  const groupSize = first!.groupSize;
  if (groupSize < 2)
    throw new TrlConfigError(`streams.${streams[0]}.groupSize: GRPO needs at least 2 samples per prompt, got ${groupSize}`);
  const completions = config.batchSize * streams.length * groupSize;
  if (completions % world !== 0)
    throw new TrlConfigError(
      `batchSize: ${config.batchSize} question(s) × ${streams.length} stream(s) × ${groupSize} samples = ${completions} completions do not split evenly over ${world} process(es)`,
    );
  return {
    trl,
    streams,
    groupSize,
    temperature: first!.temperature,
    perDeviceBatch: completions / world,
    promptsPerStep: config.batchSize * streams.length,
  };
}
