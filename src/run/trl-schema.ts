/**
 * The `trl:` section of a run config, read when `trainer: trl` hands training to Hugging Face
 * TRL's GRPOTrainer under `accelerate launch` (python/ivgr_trl, docs/TRL.md).
 */
import { z } from 'zod';

export const TRL_DISTRIBUTED = ['none', 'ddp', 'deepspeed-zero2', 'deepspeed-zero3', 'fsdp'] as const;
export type TrlDistributed = (typeof TRL_DISTRIBUTED)[number];

export const trlSchema = z.strictObject({
  /** Training processes per machine (one per GPU; on CPU, gloo processes). */
  processes: z.number().int().positive().default(1),
  /** Machines of a multi-node launch; each is started with its own --machine_rank (docs/TRL.md). */
  machines: z.number().int().positive().default(1),
  /** Address of machine 0 that the other machines of a multi-node launch join. */
  mainProcessIp: z.string().min(1).optional(),
  /** How the processes share the model: none (one process), ddp, DeepSpeed ZeRO-2/3 or FSDP. */
  distributed: z.enum(TRL_DISTRIBUTED).default('none'),
  /** Rollouts from vLLM: off (transformers' generate), server (`trl vllm-serve` elsewhere) or colocate. */
  vllm: z.enum(['off', 'server', 'colocate']).default('off'),
  vllmServer: z
    .strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().positive().default(8000) })
    .prefault({}),
  /** Further GRPOConfig fields, passed as given (e.g. gradient_checkpointing, loss_type). */
  args: z.record(z.string(), z.unknown()).default({}),
});

export type TrlConfig = z.output<typeof trlSchema>;
