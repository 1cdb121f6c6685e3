import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runConfigSchema } from '../../src/run/config-schema';
import { trlSchema } from '../../src/run/trl-schema';
import { trlPlan } from '../../src/trl/trl-plan';
import { accelerateConfig } from '../../src/trl/accelerate-config';

test('trlPlan: completions per process from questions × streams × group; mismatches name the field', () => {
  const plan = trlPlan(runConfigSchema.parse({ trainer: 'trl', batchSize: 4, trl: { processes: 2, distributed: 'ddp' } }));
  assert.deepEqual([plan.streams, plan.groupSize, plan.perDeviceBatch, plan.promptsPerStep], [['grounded', 'textual'], 4, 16, 8]);
  assert.throws(
    () => trlPlan(runConfigSchema.parse({ trainer: 'trl', streams: { textual: { groupSize: 2 } } })),
    /streams\.textual\.groupSize: .*set it to 4/,
  );
  assert.throws(() => trlPlan(runConfigSchema.parse({ trainer: 'trl', sft: { steps: 10 } })), /sft\.steps: .*initFrom/);
  assert.throws(() => trlPlan(runConfigSchema.parse({ trainer: 'trl', trl: { processes: 2 } })), /trl\.distributed: several processes/);
  assert.throws(
    () =>
      trlPlan(
        runConfigSchema.parse({
          trainer: 'trl',
          batchSize: 1,
          streams: { grounded: { groupSize: 3 }, textual: { groupSize: 3 } },
          trl: { processes: 4, distributed: 'ddp' },
        }),
      ),
    /batchSize: .*6 completions do not split evenly over 4/,
  );
});

test('accelerateConfig: one CPU process, gloo processes through the torchrun launcher, ZeRO-3 and FSDP sections', () => {
  const one = accelerateConfig(trlSchema.parse({}), { device: 'cpu', dtype: 'float32' });
  assert.match(one, /distributed_type: "NO"\n/);
  assert.match(one, /use_cpu: true\n/);
  const cpu2 = accelerateConfig(trlSchema.parse({ processes: 2, distributed: 'ddp' }), { device: 'cpu', dtype: 'float32' });
  assert.match(cpu2, /distributed_type: "MULTI_GPU"[\s\S]*num_processes: 2[\s\S]*use_cpu: false/);
  const zero3 = accelerateConfig(
    trlSchema.parse({ processes: 8, machines: 2, mainProcessIp: '10.0.0.1', distributed: 'deepspeed-zero3' }),
    { device: 'cuda', dtype: 'bfloat16' },
  );
  assert.match(
    zero3,
    /distributed_type: "DEEPSPEED"[\s\S]*mixed_precision: bf16[\s\S]*num_machines: 2\nnum_processes: 16[\s\S]*main_process_ip: "10.0.0.1"[\s\S]*zero_stage: 3\n/,
  );
  assert.match(
    accelerateConfig(trlSchema.parse({ processes: 4, distributed: 'fsdp' }), { device: 'cuda', dtype: 'bfloat16' }),
    /distributed_type: "FSDP"[\s\S]*fsdp_version: 2/,
  );
});
