/**
 * The engine's JSON-RPC 2.0 methods (stdio, Content-Length framing): the params and result
 * of each, as zod schemas. The torch client validates params before sending and results on
 * arrival, so a mismatch between the TypeScript and Python sides is an error naming the field.
 */
import { z } from 'zod';
import { COORD_CONVENTIONS } from '../types';
import { ENGINE_PROTOCOL_VERSION } from './version';

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const nonNegInt = z.number().int().nonnegative();

const chatMessage = z.object({ role: z.enum(['system', 'user', 'assistant']), text: z.string() });
const promptInput = z.object({ images: z.array(z.string()), messages: z.array(chatMessage).min(1) });

export const loadParams = z.object({
  model: z.string().min(1),
  dtype: z.enum(['float32', 'bfloat16', 'float16']).optional(),
  device: z.string().optional(),
  lora: z.object({ rank: z.number().int().positive(), alpha: z.number().nonnegative() }).nullable().optional(),
  reference: z.boolean().optional(),
  learningRate: z.number().nonnegative().optional(),
  warmupSteps: nonNegInt.optional(),
  seed: nonNegInt.optional(),
  parallel: z.enum(['ddp', 'fsdp']).optional(),
});

export const modelInfo = z.object({
  architecture: z.string(),
  parameters: nonNegInt,
  imageSize: nonNegInt,
  coordConvention: z.enum(COORD_CONVENTIONS),
  device: z.string(),
});

/** `load` answers with the model info and the engine's protocol version. */
export const loadResult = modelInfo.extend({ protocol: z.literal(ENGINE_PROTOCOL_VERSION) });

const sampling = {
  temperature: z.number().nonnegative(),
  topP: z.number().gt(0).max(1).optional(),
  maxTokens: z.number().int().positive(),
  seed: nonNegInt,
  keep: z.boolean(),
  stop: z.array(z.string()).optional(),
};

export const generateParams = z.object({
  prompts: z.array(promptInput.extend({ id: z.string() })).min(1),
  n: z.number().int().positive(),
  ...sampling,
});

export const generatedSample = z.object({
  rolloutId: z.string(),
  promptId: z.string(),
  text: z.string(),
  promptTokens: nonNegInt,
  completionTokens: nonNegInt,
  finish: z.enum(['stop', 'length']),
});

export const generateResult = z.object({ samples: z.array(generatedSample), seconds: finite });

export const continueParams = z.object({ rolloutId: z.string(), image: z.string(), text: z.string(), ...sampling });

export const updateParams = z.object({
  items: z.array(z.object({ rolloutId: z.string(), advantage: finite })).min(1),
  clipEpsilon: z.number().nonnegative(),
  klBeta: z.number().nonnegative(),
  aggregation: z.enum(['token', 'sequence']),
  microBatch: z.number().int().positive(),
  maxGradNorm: z.number().nonnegative(),
  learningRate: z.number().nonnegative().optional(),
});

/** `gradNorm` is the total gradient norm before clipping to `maxGradNorm`. */
export const updateResult = z.object({ loss: finite, kl: finite, clipFraction: finite, gradNorm: z.number(), seconds: finite });

export const sftParams = z.object({
  examples: z.array(promptInput.extend({ target: z.string().min(1) })).min(1),
  learningRate: z.number().nonnegative().optional(),
  microBatch: z.number().int().positive(),
  maxGradNorm: z.number().nonnegative().optional(),
});

export const sftResult = z.object({ loss: finite, seconds: finite });

export const logprobsParams = z.object({ items: z.array(promptInput.extend({ target: z.string().min(1) })).min(1) });

export const logprobsResult = z.object({ items: z.array(z.object({ total: finite, tokens: z.array(finite) })) });

export const saveParams = z.object({ dir: z.string().min(1), step: nonNegInt });
export const restoreParams = z.object({ dir: z.string().min(1) });
export const restoreResult = z.object({ step: nonNegInt });
export const releaseParams = z.object({ rolloutIds: z.array(z.string()) });
export const releaseResult = z.object({ released: nonNegInt });
export const digestResult = z.object({ step: nonNegInt, ranks: z.array(z.string()) });
/** `source` is recorded in the export's manifest (e.g. a digest of the checkpoint it was made from). */
export const exportOnnxParams = z.object({ dir: z.string().min(1), source: z.string().optional() });
export const exportOnnxResult = z.object({ files: z.array(z.string()) });
const empty = z.object({});

/** Every method: its wire name, params and result. */
export const engineMethods = {
  load: { params: loadParams, result: loadResult },
  generate: { params: generateParams, result: generateResult },
  continue: { params: continueParams, result: generatedSample },
  update: { params: updateParams, result: updateResult },
  sft_step: { params: sftParams, result: sftResult },
  logprobs: { params: logprobsParams, result: logprobsResult },
  save: { params: saveParams, result: empty },
  restore: { params: restoreParams, result: restoreResult },
  release: { params: releaseParams, result: releaseResult },
  /** SHA-256 of each rank's trainable weights (replicas in sync have equal digests). */
  digest: { params: empty, result: digestResult },
  /** Writes the loaded weights as ONNX (vision encoder, embedding, decoder with KV cache) for the ORT engine. */
  export_onnx: { params: exportOnnxParams, result: exportOnnxResult },
  shutdown: { params: empty, result: empty },
} as const;

export type EngineMethod = keyof typeof engineMethods;
export type EngineParams<M extends EngineMethod> = z.infer<(typeof engineMethods)[M]['params']>;
export type EngineResult<M extends EngineMethod> = z.infer<(typeof engineMethods)[M]['result']>;

/** Engine error codes (JSON-RPC `error.code`) beyond the reserved -32700..-32600 range. */
export const ENGINE_ERROR_CODES = {
  notLoaded: -32001,
  modelNotFound: -32002,
  outOfMemory: -32003,
  badImage: -32004,
  unknownRollout: -32005,
  checkpoint: -32006,
  cancelled: -32800,
  invalidParams: -32602,
  methodNotFound: -32601,
  internal: -32603,
} as const;

/**
 * Why an engine's `load` result shows another protocol than this client's, or null when it
 * matches (or when the result is not an object: the schema check reports that).
 */
export function engineProtocolMismatch(result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return null;
  const reported = (result as { protocol?: unknown }).protocol;
  if (reported === ENGINE_PROTOCOL_VERSION) return null;
  const theirs =
    reported === undefined
      ? 'reports no engine protocol version (it predates versioning)'
      : `speaks engine protocol ${JSON.stringify(reported)}`;
  return `the Python engine ${theirs} but this client speaks engine protocol ${ENGINE_PROTOCOL_VERSION}`;
}

/** A zod failure as one line naming the path of the first problem. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const at = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${at}: ${issue?.message ?? 'invalid'}`;
}
