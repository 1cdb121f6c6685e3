/**
 * The interface the run worker uses to drive a model. Tensors never cross it:
 * rollouts are referred to by id, and the engine keeps token ids and old
 * log-probs until `update` or `release` drops them.
 */
import { ENGINE_ERROR_CODES } from '../core/protocol/engine';
import type { CoordConvention } from '../core/types';

export interface LoadOptions {
  /** A local model folder, or "builtin:tiny" for the embedded default. */
  model: string;
  dtype?: 'float32' | 'bfloat16' | 'float16';
  device?: string;
  lora?: { rank: number; alpha: number } | null;
  /** Keep a frozen reference copy for the KL term. */
  reference?: boolean;
  learningRate?: number;
  /** Linear learning-rate warm-up over this many optimizer steps (0: none). */
  warmupSteps?: number;
  /**
   * Across several processes (an engine started under torchrun): 'ddp' replicates the model on
   * every rank (default), 'fsdp' shards weights, gradients and optimizer state.
   */
  parallel?: 'ddp' | 'fsdp';
  seed?: number;
}

export interface ModelInfo {
  architecture: string;
  parameters: number;
  /** Side of the square image the model sees, in pixels, when it resizes to a fixed grid. */
  imageSize: number;
  coordConvention: CoordConvention;
  device: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  /**
   * `<image>` marks where the prompt's next image goes; when no message has one, all images
   * go at the start of the first user message.
   */
  text: string;
}

export interface GenerateRequest {
  /** One entry per prompt; each prompt is sampled `n` times. */
  prompts: Array<{
    id: string;
    /** Absolute image paths, in the order the messages refer to them. */
    images: string[];
    messages: ChatMessage[];
  }>;
  n: number;
  temperature: number;
  topP?: number;
  maxTokens: number;
  seed: number;
  /** Keep token ids and log-probs for a later `update` (training) or not (evaluation). */
  keep: boolean;
  /** Extra single tokens that end a sample (e.g. `</tool_call>`), kept in the text; end-of-turn always stops. */
  stop?: string[];
}

export interface GeneratedSample {
  /** Rollout id; with `keep`, the engine holds its tensors under this id. */
  rolloutId: string;
  promptId: string;
  text: string;
  promptTokens: number;
  completionTokens: number;
  finish: 'stop' | 'length';
}

export interface GenerateResult {
  samples: GeneratedSample[];
  seconds: number;
}

export interface ContinueRequest {
  rolloutId: string;
  /** The tool result: a new image (e.g. a zoom crop) and the text that introduces it. */
  image: string;
  text: string;
  maxTokens: number;
  temperature: number;
  topP?: number;
  seed: number;
  keep: boolean;
  stop?: string[];
}

export interface UpdateRequest {
  items: Array<{ rolloutId: string; advantage: number }>;
  clipEpsilon: number;
  klBeta: number;
  aggregation: 'token' | 'sequence';
  microBatch: number;
  maxGradNorm: number;
  learningRate?: number;
}

export interface UpdateResult {
  loss: number;
  kl: number;
  clipFraction: number;
  /** Total gradient norm before clipping to `maxGradNorm` (the applied step uses the clipped one). */
  gradNorm: number;
  seconds: number;
}

export interface SftRequest {
  examples: Array<{ images: string[]; messages: ChatMessage[]; target: string }>;
  learningRate?: number;
  microBatch: number;
  maxGradNorm?: number;
}

export interface SftResult {
  loss: number;
  seconds: number;
}

export interface LogprobsRequest {
  items: Array<{ images: string[]; messages: ChatMessage[]; target: string }>;
}

export interface LogprobsResult {
  /** Per item: summed log-probability of the target and per-token values. */
  items: Array<{ total: number; tokens: number[] }>;
}

/** Per-call controls: an abort signal (the engine stops at its next safe point) and a timeout. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface Engine {
  readonly kind: 'torch' | 'ort';
  load(options: LoadOptions, call?: CallOptions): Promise<ModelInfo>;
  generate(request: GenerateRequest, call?: CallOptions): Promise<GenerateResult>;
  continue(request: ContinueRequest, call?: CallOptions): Promise<GeneratedSample>;
  update(request: UpdateRequest, call?: CallOptions): Promise<UpdateResult>;
  sftStep(request: SftRequest, call?: CallOptions): Promise<SftResult>;
  logprobs(request: LogprobsRequest, call?: CallOptions): Promise<LogprobsResult>;
  /** Saves weights, optimizer, RNG states and step into `dir` (written aside, then renamed into place). */
  save(dir: string, step: number): Promise<void>;
  /** Loads a `save`d folder into the loaded model and drops every kept rollout. */
  restore(dir: string): Promise<{ step: number }>;
  /**
   * Writes the current weights as ONNX for the ORT engine (torch engine only); `source` is
   * recorded in the export's manifest (e.g. a digest of the checkpoint it was made from).
   */
  exportOnnx?(dir: string, source?: string): Promise<{ files: string[] }>;
  release(rolloutIds: string[]): Promise<void>;
  shutdown(): Promise<void>;
}

/** Why an engine call failed, for either engine; `code` is the engine's JSON-RPC error code when it sent one. */
export type EngineErrorKind =
  | 'not-loaded'
  | 'model-not-found'
  | 'out-of-memory'
  | 'bad-image'
  | 'unknown-rollout'
  | 'checkpoint'
  | 'cancelled'
  | 'invalid-params'
  | 'internal'
  | 'timeout'
  | 'exited'
  | 'spawn'
  | 'protocol';

const BY_CODE = new Map<number, EngineErrorKind>([
  [ENGINE_ERROR_CODES.notLoaded, 'not-loaded'],
  [ENGINE_ERROR_CODES.modelNotFound, 'model-not-found'],
  [ENGINE_ERROR_CODES.outOfMemory, 'out-of-memory'],
  [ENGINE_ERROR_CODES.badImage, 'bad-image'],
  [ENGINE_ERROR_CODES.unknownRollout, 'unknown-rollout'],
  [ENGINE_ERROR_CODES.checkpoint, 'checkpoint'],
  [ENGINE_ERROR_CODES.cancelled, 'cancelled'],
  [ENGINE_ERROR_CODES.invalidParams, 'invalid-params'],
]);

export class EngineError extends Error {
  constructor(
    message: string,
    readonly kind: EngineErrorKind,
    readonly method: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }

  static fromCode(method: string, code: number, message: string): EngineError {
    return new EngineError(`engine ${method}: ${message}`, BY_CODE.get(code) ?? 'internal', method, code);
  }
}
