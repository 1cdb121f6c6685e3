/**
 * The control-channel and engine schemas: valid examples pass, invalid ones fail with the field
 * named, and the engine protocol version check says which versions disagree.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientMessage, parseWorkerMessage } from '../../src/core/protocol/control';
import { describeIssue, engineMethods, engineProtocolMismatch, type EngineMethod } from '../../src/core/protocol/engine';
import { ENGINE_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../../src/core/protocol/version';
import { metricsRecordSchema } from '../../src/core/protocol/webview';

const status = { status: 'running', step: 3, totalSteps: 10, phase: 'generate', reward: { grounded: 0.5 }, pid: 42 };
const line = (value: unknown) => JSON.stringify(value);
const errorOf = (r: { ok: boolean; error?: string }) => (r.ok ? '' : (r.error ?? ''));

describe('control messages', () => {
  it('accepts every client message and refuses others', () => {
    for (const type of ['pause', 'resume', 'stop', 'ping']) assert.equal(parseClientMessage(line({ type })).ok, true, type);
    assert.match(errorOf(parseClientMessage(line({ type: 'restart' }))), /^client message invalid at type: /);
    assert.match(errorOf(parseClientMessage('{"type": "pause"')), /^client message is not JSON: /);
  });

  it('accepts worker messages and names the failing field', () => {
    const good = [
      { type: 'hello', protocol: PROTOCOL_VERSION, runId: 'r1', status },
      { type: 'status', status: { ...status, message: 'warming up' } },
      { type: 'event', file: 'metrics', offset: 120, record: { step: 3 } },
      { type: 'log', level: 'warn', source: 'engine', text: 'slow step' },
      { type: 'pong' },
    ];
    for (const m of good) assert.equal(parseWorkerMessage(line(m)).ok, true, m.type);
    const bad: Array<[unknown, RegExp]> = [
      [{ type: 'hello', protocol: PROTOCOL_VERSION + 1, runId: 'r1', status }, /invalid at protocol/],
      [{ type: 'status', status: { ...status, status: 'sleeping' } }, /invalid at status\.status/],
      [{ type: 'status', status: { ...status, step: -1 } }, /invalid at status\.step/],
      [{ type: 'event', file: 'checkpoints', offset: 0, record: {} }, /invalid at file/],
      [{ type: 'event', file: 'eval', offset: 1.5, record: {} }, /invalid at offset/],
      [{ type: 'log', level: 'fatal', source: 'worker', text: 'x' }, /invalid at level/],
    ];
    for (const [m, pattern] of bad) assert.match(errorOf(parseWorkerMessage(line(m))), pattern);
  });
});

const prompt = { id: 'p0', images: ['/data/a.png'], messages: [{ role: 'user', text: '<image>What color?' }] };
const sample = { rolloutId: 'p0:1:0', promptId: 'p0', text: '<answer>A</answer>', promptTokens: 80, completionTokens: 5, finish: 'stop' };
const info = {
  architecture: 'Qwen2_5_VLForConditionalGeneration',
  parameters: 4_000_000,
  imageSize: 224,
  coordConvention: 'qwen25-abs',
  device: 'cpu',
};
const sampling = { temperature: 1, maxTokens: 64, seed: 3, keep: true };
const update = {
  items: [{ rolloutId: 'p0:1:0', advantage: 0.5 }],
  clipEpsilon: 0.2,
  klBeta: 0.01,
  aggregation: 'token',
  microBatch: 4,
  maxGradNorm: 1,
};

/** A valid example of each method's params and result. */
const valid: { [M in EngineMethod]: { params: unknown; result: unknown } } = {
  load: {
    params: { model: 'builtin:tiny', dtype: 'bfloat16', lora: { rank: 8, alpha: 16 }, warmupSteps: 10 },
    result: { ...info, protocol: ENGINE_PROTOCOL_VERSION },
  },
  generate: {
    params: { prompts: [prompt], n: 4, topP: 0.9, stop: ['</tool_call>'], ...sampling },
    result: { samples: [sample], seconds: 0.4 },
  },
  continue: { params: { rolloutId: 'p0:1:0', image: '/tmp/crop.png', text: 'Zoomed.', ...sampling }, result: sample },
  update: { params: update, result: { loss: -0.2, kl: 0.01, clipFraction: 0.1, gradNorm: 3.5, seconds: 1.2 } },
  sft_step: { params: { examples: [{ ...prompt, target: '<answer>A</answer>' }], microBatch: 2 }, result: { loss: 1.3, seconds: 0.5 } },
  logprobs: { params: { items: [{ ...prompt, target: 'A' }] }, result: { items: [{ total: -1.5, tokens: [-1, -0.5] }] } },
  save: { params: { dir: 'checkpoints/10', step: 10 }, result: {} },
  restore: { params: { dir: 'checkpoints/10' }, result: { step: 10 } },
  release: { params: { rolloutIds: ['p0:1:0'] }, result: { released: 1 } },
  digest: { params: {}, result: { step: 10, ranks: ['ab12'] } },
  export_onnx: { params: { dir: 'onnx', source: 'sha256:ab' }, result: { files: ['decoder.onnx'] } },
  shutdown: { params: {}, result: {} },
};

function failure(
  schema: { safeParse(v: unknown): { success: boolean; error?: Parameters<typeof describeIssue>[0] } },
  value: unknown,
): string {
  const r = schema.safeParse(value);
  assert.equal(r.success, false, `expected ${JSON.stringify(value)} to be refused`);
  return describeIssue(r.error!);
}

describe('engine messages', () => {
  it('accepts a valid example of every method', () => {
    for (const [method, example] of Object.entries(valid) as Array<[EngineMethod, { params: unknown; result: unknown }]>) {
      assert.equal(engineMethods[method].params.safeParse(example.params).success, true, `${method} params`);
      assert.equal(engineMethods[method].result.safeParse(example.result).success, true, `${method} result`);
    }
  });

  it('refuses invalid params, naming the field', () => {
    const m = engineMethods;
    const cases: Array<[string, string]> = [
      [failure(m.load.params, { model: '' }), 'model'],
      [failure(m.load.params, { model: 'm', dtype: 'int8' }), 'dtype'],
      [failure(m.load.params, { model: 'm', lora: { rank: 0, alpha: 1 } }), 'lora.rank'],
      [failure(m.generate.params, { prompts: [], n: 1, ...sampling }), 'prompts'],
      [
        failure(m.generate.params, { prompts: [{ ...prompt, messages: [{ role: 'robot', text: 'hi' }] }], n: 1, ...sampling }),
        'prompts.0.messages.0.role',
      ],
      [failure(m.generate.params, { prompts: [prompt], n: 1, ...sampling, topP: 0 }), 'topP'],
      [failure(m.generate.params, { prompts: [prompt], n: 1.5, ...sampling }), 'n'],
      [failure(m.update.params, { ...update, items: [{ rolloutId: 'r', advantage: Number.NaN }] }), 'items.0.advantage'],
      [failure(m.update.params, { ...update, aggregation: 'mean' }), 'aggregation'],
      [failure(m.save.params, { dir: 'c', step: -1 }), 'step'],
      [failure(m.release.params, { rolloutIds: 'p0:1:0' }), 'rolloutIds'],
    ];
    for (const [described, field] of cases) assert.equal(described.split(': ')[0], field, described);
  });

  it('refuses invalid results, naming the field', () => {
    const m = engineMethods;
    assert.match(failure(m.generate.result, { samples: [{ ...sample, finish: 'eos' }], seconds: 1 }), /^samples\.0\.finish: /);
    assert.match(failure(m.update.result, { loss: Number.POSITIVE_INFINITY, kl: 0, clipFraction: 0, gradNorm: 1, seconds: 1 }), /^loss: /);
    assert.match(
      failure(m.load.result, { ...info, coordConvention: 'normalised', protocol: ENGINE_PROTOCOL_VERSION }),
      /^coordConvention: /,
    );
    assert.match(failure(m.load.result, { ...info, protocol: ENGINE_PROTOCOL_VERSION + 1 }), /^protocol: /);
    assert.match(failure(m.restore.result, {}), /^step: /);
    assert.match(failure(m.release.result, 'ok'), /^\(root\): /);
  });
});

describe('engine protocol version', () => {
  it('matches only the version this client speaks', () => {
    assert.equal(engineProtocolMismatch({ ...info, protocol: ENGINE_PROTOCOL_VERSION }), null);
    assert.equal(
      engineProtocolMismatch({ ...info, protocol: ENGINE_PROTOCOL_VERSION + 1 }),
      `the Python engine speaks engine protocol ${ENGINE_PROTOCOL_VERSION + 1} but this client speaks engine protocol ${ENGINE_PROTOCOL_VERSION}`,
    );
    assert.match(engineProtocolMismatch(info) ?? '', /reports no engine protocol version/);
    assert.match(engineProtocolMismatch({ ...info, protocol: '1' }) ?? '', /speaks engine protocol "1"/);
    assert.equal(engineProtocolMismatch('not an object'), null, 'left to the schema check');
  });
});

it('a pretraining metrics line keeps its loss terms and held-out scores through the schema', () => {
  const line = {
    v: 1,
    step: 250,
    time: 1,
    reward: {},
    terms: {},
    accuracy: {},
    kl: 0,
    clipFraction: 0,
    loss: 0.5,
    gradNorm: 1,
    responseLength: {},
    tokensPerSecond: 0,
    phases: { update: 1 },
    highQualityGrounded: 0,
    pretrain: { stage: 'demo', learningRate: 1e-3, losses: { lm: 0.5 } },
    perception: { loss: 0.4, 'demo-val.colour': 0.9 },
  };
  const parsed = metricsRecordSchema.parse(line);
  assert.deepEqual(parsed.pretrain, line.pretrain);
  assert.deepEqual(parsed.perception, line.perception);
});
