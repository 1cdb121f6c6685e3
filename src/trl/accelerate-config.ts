/** The accelerate config file `accelerate launch` reads for a TRL run (one machine's view; see docs/TRL.md for multi-node). */
import type { TrlConfig } from '../run/trl-schema';

function distributedType(trl: TrlConfig): string {
  switch (trl.distributed) {
    case 'none':
      return 'NO';
    case 'ddp':
      // accelerate starts MULTI_CPU processes only under mpirun; its torchrun launcher starts them itself, and without CUDA they join over gloo.
      return 'MULTI_GPU';
    case 'deepspeed-zero2':
    case 'deepspeed-zero3':
      return 'DEEPSPEED';
    case 'fsdp':
      return 'FSDP';
  }
}

/** YAML text (flat enough that a hand-written emitter stays exact). */
export function accelerateConfig(trl: TrlConfig, opts: { device: string; dtype: string; port?: number }): string {
  const cpu = opts.device === 'cpu';
  const lines = [
    'compute_environment: LOCAL_MACHINE',
    'debug: false',
    `distributed_type: ${JSON.stringify(distributedType(trl))}`,
    "downcast_bf16: 'no'",
    'machine_rank: 0',
    'main_training_function: main',
    `mixed_precision: ${!cpu && opts.dtype === 'bfloat16' ? 'bf16' : !cpu && opts.dtype === 'float16' ? 'fp16' : "'no'"}`,
    `num_machines: ${trl.machines}`,
    `num_processes: ${trl.processes * trl.machines}`,
    `main_process_port: ${opts.port ?? 29500}`,
    ...(trl.mainProcessIp !== undefined ? [`main_process_ip: ${JSON.stringify(trl.mainProcessIp)}`] : []),
    'rdzv_backend: static',
    'same_network: true',
    `use_cpu: ${cpu && trl.distributed === 'none'}`,
  ];
  if (trl.distributed === 'deepspeed-zero2' || trl.distributed === 'deepspeed-zero3') {
    const stage = trl.distributed === 'deepspeed-zero3' ? 3 : 2;
    lines.push(
      'deepspeed_config:',
      '  deepspeed_multinode_launcher: standard',
      '  offload_optimizer_device: none',
      '  offload_param_device: none',
      `  zero3_init_flag: ${stage === 3}`,
      ...(stage === 3 ? ['  zero3_save_16bit_model: true'] : []),
      `  zero_stage: ${stage}`,
    );
  }
  if (trl.distributed === 'fsdp') {
    lines.push(
      'fsdp_config:',
      '  fsdp_activation_checkpointing: false',
      '  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP',
      '  fsdp_cpu_ram_efficient_loading: true',
      '  fsdp_offload_params: false',
      '  fsdp_reshard_after_forward: true',
      '  fsdp_state_dict_type: FULL_STATE_DICT',
      '  fsdp_version: 2',
    );
  }
  return lines.join('\n') + '\n';
}
