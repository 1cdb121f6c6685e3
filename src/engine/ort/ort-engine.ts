/**
 * The `Engine` on onnxruntime-node: evaluation only (generate, continue, logprobs) on a model
 * exported by the PyTorch engine's `export_onnx`. Prompts, image preprocessing, positions and
 * decoding follow the PyTorch engine, so greedy generations agree token for token.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { continueParams, describeIssue, generateParams, logprobsParams } from '../../core/protocol/engine';
import {
  type CallOptions,
  type ChatMessage,
  type ContinueRequest,
  type Engine,
  EngineError,
  type GeneratedSample,
  type GenerateRequest,
  type GenerateResult,
  type LoadOptions,
  type LogprobsRequest,
  type LogprobsResult,
  type ModelInfo,
  type SftResult,
  type UpdateResult,
} from '../engine';
import { ImageError } from './image';
import { defaultThreads, OrtModel, ProviderError, type Context, type DecodeOptions, type ImageFeatures } from './model';
import { chatText, expandImageTokens, PromptError, toolTurnText } from './prompt';

/** Rollouts generated without `keep` stay this many, for a later `continue`; the oldest go first. */
const MAX_CONTEXT_ONLY = 256;

interface Rollout {
  promptId: string;
  context: Context;
  /** The last segment ended with an end-of-turn token. */
  ended: boolean;
  kept: boolean;
}

export interface OrtEngineOptions {
  /** An export folder (manifest.json, the ONNX files and tokenizer.json). */
  modelDir: string;
  /** Execution provider (default cpu); cuda needs an onnxruntime-node build that has it. */
  provider?: 'cpu' | 'cuda';
  /** Intra-op threads of each session (default: onnxruntime's choice). */
  threads?: number;
  log?: (line: string) => void;
}

/** The sampling settings of a generate or continue request (top-p 1 when it gives none). */
function decodeOptions(
  req: Pick<GenerateRequest, 'maxTokens' | 'temperature' | 'topP' | 'seed'>,
  stops: ReadonlySet<number>,
  check: () => void,
): DecodeOptions {
  return { maxTokens: req.maxTokens, temperature: req.temperature, topP: req.topP ?? 1, seed: req.seed, stops, check };
}

export class OrtEngine implements Engine {
  readonly kind = 'ort' as const;
  private model: OrtModel | null = null;
  private readonly rollouts = new Map<string, Rollout>();
  private counter = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: (line: string) => void;

  constructor(readonly opts: OrtEngineOptions) {
    this.log = opts.log ?? (() => undefined);
  }

  /**
   * Opens the export. `options.model` names another export folder to open instead when it holds
   * a manifest.json; dtype, device and the training options do not apply (the export fixes them).
   */
  load(options: LoadOptions, call?: CallOptions): Promise<ModelInfo> {
    return this.serial('load', call, async () => {
      const dir = existsSync(join(resolve(options.model), 'manifest.json')) ? resolve(options.model) : resolve(this.opts.modelDir);
      const provider = this.opts.provider ?? 'cpu';
      const threads = this.opts.threads ?? defaultThreads();
      if (this.model) await this.model.release();
      this.model = null;
      this.rollouts.clear();
      const t0 = performance.now();
      try {
        this.model = await OrtModel.open(dir, provider, threads);
      } catch (err) {
        const kind = err instanceof ProviderError ? 'invalid-params' : 'model-not-found';
        throw new EngineError(`ort engine load: ${(err as Error).message}`, kind, 'load');
      }
      const m = this.model.manifest;
      this.log(
        `ort engine: loaded ${m.architecture} from ${dir} on ${provider} (${threads} thread(s), ${(m.parameters / 1e6).toFixed(2)}M parameters) in ${((performance.now() - t0) / 1000).toFixed(2)}s`,
      );
      return {
        architecture: m.architecture,
        parameters: m.parameters,
        imageSize: m.image.side,
        coordConvention: m.coordConvention,
        device: provider,
      };
    });
  }

  generate(request: GenerateRequest, call?: CallOptions): Promise<GenerateResult> {
    return this.serial('generate', call, async (check) => {
      const t0 = performance.now();
      const req = validate('generate', generateParams, request);
      const model = this.loaded('generate');
      const stops = this.stopIds(model, req.stop, 'generate');
      const seen = new Set<string>();
      const contexts: Context[] = [];
      // Prompts that share an image share its features.
      const features = new Map<string, Promise<ImageFeatures>>();
      for (const [i, p] of req.prompts.entries()) {
        const where = `generate.prompts[${i}]`;
        if (seen.has(p.id))
          throw invalidParams(
            'generate',
            `${where}.id '${p.id}' repeats an earlier prompt's id; prompt ids must be unique within a request`,
          );
        seen.add(p.id);
        contexts.push(await this.encode(model, p.messages, p.images, where, 'generate', features));
        check();
      }
      const rows = req.prompts.flatMap((p, pi) => Array.from({ length: req.n }, (_, s) => ({ pi, s, id: p.id })));
      const outs = await model.decode(
        rows.map((r) => contexts[r.pi]!),
        decodeOptions(req, stops, check),
      );
      this.counter += 1;
      const samples: GeneratedSample[] = rows.map((r, k) => {
        const { tokens, finish } = outs[k]!;
        const rolloutId = `${r.id}:${this.counter}:${r.s}`;
        const context = contexts[r.pi]!;
        this.store(rolloutId, {
          promptId: r.id,
          context: { ids: [...context.ids, ...tokens], images: context.images },
          ended: this.endsTurn(model, tokens),
          kept: req.keep,
        });
        return {
          rolloutId,
          promptId: r.id,
          text: this.decodeText(model, tokens),
          promptTokens: context.ids.length,
          completionTokens: tokens.length,
          finish,
        };
      });
      return { samples, seconds: (performance.now() - t0) / 1000 };
    });
  }

  continue(request: ContinueRequest, call?: CallOptions): Promise<GeneratedSample> {
    return this.serial('continue', call, async (check) => {
      const req = validate('continue', continueParams, request);
      const model = this.loaded('continue');
      const r = this.rollouts.get(req.rolloutId);
      if (!r) {
        throw new EngineError(
          `ort engine continue: unknown rollout id '${req.rolloutId}' (released, evicted, or never generated; generate with keep: true to continue it later)`,
          'unknown-rollout',
          'continue',
        );
      }
      const stops = this.stopIds(model, req.stop, 'continue');
      const image = await this.imageFeatures(model, req.image, 'continue.image', 'continue');
      const turn = expandImageTokens(
        model.codec.encode(toolTurnText(req.text, r.ended)),
        model.manifest.tokens.image,
        [image.tokens],
        'continue',
      );
      const context: Context = { ids: [...r.context.ids, ...turn], images: [...r.context.images, image] };
      check();
      const [out] = await model.decode([context], decodeOptions(req, stops, check));
      const { tokens, finish } = out!;
      this.store(req.rolloutId, {
        promptId: r.promptId,
        context: { ids: [...context.ids, ...tokens], images: context.images },
        ended: this.endsTurn(model, tokens),
        kept: r.kept || req.keep,
      });
      return {
        rolloutId: req.rolloutId,
        promptId: r.promptId,
        text: this.decodeText(model, tokens),
        promptTokens: context.ids.length,
        completionTokens: tokens.length,
        finish,
      };
    });
  }

  logprobs(request: LogprobsRequest, call?: CallOptions): Promise<LogprobsResult> {
    return this.serial('logprobs', call, async (check) => {
      const req = validate('logprobs', logprobsParams, request);
      const model = this.loaded('logprobs');
      const items: LogprobsResult['items'] = [];
      for (const [i, item] of req.items.entries()) {
        const where = `logprobs.items[${i}]`;
        const context = await this.encode(model, item.messages, item.images, where, 'logprobs');
        const target = model.codec.encode(item.target);
        if (target.length === 0) throw invalidParams('logprobs', `${where}.target is empty`);
        const tokens = await model.score(context, target);
        items.push({ total: tokens.reduce((a, b) => a + b, 0), tokens });
        check();
      }
      return { items };
    });
  }

  update(): Promise<UpdateResult> {
    return Promise.reject(evaluationOnly('update'));
  }

  sftStep(): Promise<SftResult> {
    return Promise.reject(evaluationOnly('sft_step'));
  }

  save(): Promise<void> {
    return Promise.reject(evaluationOnly('save'));
  }

  restore(): Promise<{ step: number }> {
    return Promise.reject(evaluationOnly('restore'));
  }

  release(rolloutIds: string[]): Promise<void> {
    for (const id of rolloutIds) this.rollouts.delete(id);
    return Promise.resolve();
  }

  /** Closes the sessions; a later call needs `load` again. */
  shutdown(): Promise<void> {
    return this.serial('shutdown', undefined, async () => {
      this.rollouts.clear();
      const m = this.model;
      this.model = null;
      if (m) await m.release();
    });
  }

  /** Runs calls one at a time, with the call's abort signal and timeout checked between decoding steps. */
  private serial<T>(method: string, call: CallOptions | undefined, fn: (check: () => void) => Promise<T>): Promise<T> {
    const timeoutMs = call?.timeoutMs;
    const run = async (): Promise<T> => {
      const deadline = timeoutMs !== undefined && timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
      const check = (): void => {
        if (call?.signal?.aborted) throw new EngineError(`ort engine ${method}: cancelled`, 'cancelled', method);
        if (performance.now() > deadline)
          throw new EngineError(`ort engine ${method}: no answer within ${timeoutMs} ms; the request was cancelled`, 'timeout', method);
      };
      check();
      try {
        return await fn(check);
      } catch (err) {
        if (err instanceof EngineError) throw err;
        if (err instanceof PromptError) throw invalidParams(method, err.message);
        if (err instanceof ImageError) throw new EngineError(`ort engine ${method}: ${err.message}`, 'bad-image', method);
        throw new EngineError(`ort engine ${method} failed: ${err instanceof Error ? err.message : String(err)}`, 'internal', method);
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private loaded(method: string): OrtModel {
    if (!this.model) throw new EngineError(`ort engine ${method}: no model is loaded; call load first`, 'not-loaded', method);
    return this.model;
  }

  private async imageFeatures(model: OrtModel, path: string, where: string, method: string): Promise<ImageFeatures> {
    try {
      return await model.imageFeatures(path);
    } catch (err) {
      if (err instanceof ImageError) throw new EngineError(`ort engine ${method}: ${where}: ${err.message}`, 'bad-image', method);
      throw err;
    }
  }

  private async encode(
    model: OrtModel,
    messages: ChatMessage[],
    images: string[],
    where: string,
    method: string,
    cache?: Map<string, Promise<ImageFeatures>>,
  ): Promise<Context> {
    const text = chatText(messages, images.length, model.manifest.chat.defaultSystem, where);
    const feats: ImageFeatures[] = [];
    for (const [i, path] of images.entries()) {
      let f = cache?.get(path);
      if (!f) {
        f = this.imageFeatures(model, path, `${where}.images[${i}]`, method);
        cache?.set(path, f);
      }
      feats.push(await f);
    }
    const ids = expandImageTokens(
      model.codec.encode(text),
      model.manifest.tokens.image,
      feats.map((f) => f.tokens),
      where,
    );
    return { ids, images: feats };
  }

  private stopIds(model: OrtModel, stop: string[] | undefined, method: string): Set<number> {
    const out = new Set(model.manifest.tokens.eos);
    (stop ?? []).forEach((s, i) => {
      const ids = model.codec.encode(s);
      if (ids.length !== 1)
        throw invalidParams(
          method,
          `${method}.stop[${i}]: '${s}' is not a single token of this tokenizer (it encodes to ${ids.length} tokens)`,
        );
      out.add(ids[0]!);
    });
    return out;
  }

  private endsTurn(model: OrtModel, tokens: number[]): boolean {
    return tokens.length > 0 && model.manifest.tokens.eos.includes(tokens[tokens.length - 1]!);
  }

  /** The text of generated tokens; a final end-of-turn token is dropped, other stop tokens stay. */
  private decodeText(model: OrtModel, tokens: number[]): string {
    return model.codec.decode(this.endsTurn(model, tokens) ? tokens.slice(0, -1) : tokens);
  }

  private store(id: string, rollout: Rollout): void {
    this.rollouts.delete(id);
    this.rollouts.set(id, rollout);
    const contextOnly = [...this.rollouts].filter(([, r]) => !r.kept);
    for (const [k] of contextOnly.slice(0, Math.max(0, contextOnly.length - MAX_CONTEXT_ONLY))) this.rollouts.delete(k);
  }
}

function validate<S extends z.ZodType>(method: string, schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalidParams(method, `invalid request at ${describeIssue(r.error)}`);
  return r.data;
}

function invalidParams(method: string, message: string): EngineError {
  return new EngineError(`ort engine ${method}: ${message}`, 'invalid-params', method);
}

function evaluationOnly(op: string): EngineError {
  return new EngineError(
    `ort engine ${op}: ${op} is a training operation; the ONNX Runtime engine only evaluates (train with the PyTorch engine, then export the checkpoint with export_onnx)`,
    'invalid-params',
    op,
  );
}
