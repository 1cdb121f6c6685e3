/**
 * The panel's "Try prompt", host side: one question about one image, run on the ONNX Runtime
 * engine for a checkpoint of a run. The checkpoint is exported to ONNX the first time (the export
 * is cached next to it); the loaded engine is kept for the next question on the same checkpoint
 * and shut down after a while without one. No vscode import: the panel host wires it to the
 * webview, and tests drive it with the real engine.
 */
import { shippedModelDir } from '../engine/torch/builtin-models';
import { dirname, isAbsolute, resolve } from 'node:path';
import sharp from 'sharp';
import type { TryPromptKind, TryPromptResult } from '../core/protocol/webview';
import { parseOptionsFor, parseTrace } from '../core/trace';
import type { ImageSize } from '../core/types';
import type { CallOptions, Engine, GeneratedSample, ModelInfo } from '../engine/engine';
import { createOrtEngine, exportCheckpointToOnnx, onnxExportCurrent, onnxExportDir } from '../engine/ort';
import { listCheckpoints } from '../run/checkpoints';
import { readRunJson } from '../run/run-dir';
import { promptInput, promptMessages } from '../worker/prompts';
import { modelPathOf, openRunData } from '../worker/run-inputs';

export interface TryQuestion {
  /** Absolute path of the image. */
  imagePath: string;
  /** The image as the panel named it (echoed in the result, so the panel shows the same picture). */
  image: string;
  question: string;
  kind: TryPromptKind;
  maxTokens: number;
}

/** What a Try prompt answer is besides the model's text: where it came from and what was asked. */
export interface TryContext {
  engine: Engine['kind'];
  convention: ModelInfo['coordConvention'];
  checkpoint: number;
  kind: TryPromptKind;
  image: string;
  imageSize: ImageSize;
  /** The prompt as sent, flattened. */
  input: string;
  seconds: number;
}

/** The panel's view of one generated answer: read as the scorer reads it, boxes in original-image pixels. */
export function tryResultOf(
  sample: Pick<GeneratedSample, 'text' | 'promptTokens' | 'completionTokens' | 'finish'>,
  ctx: TryContext,
): TryPromptResult {
  const parsed = parseTrace(sample.text, parseOptionsFor(ctx.imageSize, { coordConvention: ctx.convention }));
  return {
    engine: ctx.engine,
    checkpoint: ctx.checkpoint,
    kind: ctx.kind,
    image: ctx.image,
    imageSize: ctx.imageSize,
    input: ctx.input,
    output: sample.text,
    answer: parsed.answerText,
    boxes: parsed.boxes,
    convention: ctx.convention,
    promptTokens: sample.promptTokens,
    completionTokens: sample.completionTokens,
    finish: sample.finish,
    seconds: ctx.seconds,
  };
}

/** Asks `engine` one question greedily, in the prompt format of `q.kind`, about `q.imagePath`. */
export async function askEngine(
  engine: Engine,
  info: ModelInfo,
  q: TryQuestion,
  checkpoint: number,
  call?: CallOptions,
): Promise<TryPromptResult> {
  const meta = await sharp(q.imagePath).metadata();
  if (!meta.width || !meta.height) throw new Error(`${q.imagePath}: not an image sharp can read`);
  const messages = promptMessages(q.kind, { question: q.question.trim() });
  const gen = await engine.generate(
    { prompts: [{ id: 'try', images: [q.imagePath], messages }], n: 1, temperature: 0, maxTokens: q.maxTokens, seed: 0, keep: false },
    call,
  );
  const sample = gen.samples[0];
  if (!sample) throw new Error('the engine returned no sample');
  return tryResultOf(sample, {
    engine: engine.kind,
    convention: info.coordConvention,
    checkpoint,
    kind: q.kind,
    image: q.image,
    imageSize: { width: meta.width, height: meta.height },
    input: promptInput(messages),
    seconds: gen.seconds,
  });
}

export interface TryTarget {
  checkpoint: number;
  checkpointDir: string;
  /** The run's base model folder, which the export loads the checkpoint into; asked for only when needed. */
  model: () => Promise<string>;
  /** Python of the PyTorch engine that writes the export (the `ivgr.python.path` setting). */
  python?: string;
}

/**
 * The checkpoint a question runs on: `step`, or the run's latest complete checkpoint; the base
 * model is the run config's (the built-in tiny model is found, or built, as the worker does).
 */
export function tryTargetOf(
  runDir: string,
  step: number | undefined,
  opts: { python?: string; log?: (line: string) => void } = {},
): TryTarget & { maxTokens: number } {
  const run = readRunJson(runDir);
  const all = listCheckpoints(runDir);
  if (all.length === 0) throw new Error(`${run.id} has no checkpoint yet; Try prompt runs a saved checkpoint`);
  const entry = step === undefined ? all.at(-1)! : all.find((c) => c.step === step);
  if (!entry) throw new Error(`${run.id} has no complete checkpoint at step ${step} (it has ${all.map((c) => c.step).join(', ')})`);
  const log = opts.log ?? (() => undefined);
  const config = run.config;
  return {
    checkpoint: entry.step,
    checkpointDir: entry.dir,
    maxTokens: config.maxTokens,
    ...(opts.python ? { python: opts.python } : {}),
    model: async () => {
      const shipped = shippedModelDir(config.model);
      if (shipped) return shipped;
      if (config.model !== 'builtin:tiny') {
        // The worker runs in the config's folder, so a relative model path is relative to it.
        return isAbsolute(config.model) || !run.configFile ? config.model : resolve(dirname(run.configFile), config.model);
      }
      const data = await openRunData(run, config, log);
      return modelPathOf(config, data, opts.python, (_level, text) => log(text));
    },
  };
}

export interface TryPromptRunnerOptions {
  provider: 'cpu' | 'cuda';
  threads?: number;
  /** Shuts the engine down after this long without a question (default 5 minutes). */
  idleMs?: number;
  log?: (line: string) => void;
}

/** Runs Try prompt questions one at a time, keeping the engine of the last checkpoint loaded. */
export class TryPromptRunner {
  private loaded: { onnxDir: string; engine: Engine; info: ModelInfo } | null = null;
  /** Checkpoint folders whose export was made or checked by this runner. */
  private readonly exported = new Map<string, string>();
  private busy = false;
  private idle: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: TryPromptRunnerOptions) {}

  get running(): boolean {
    return this.busy;
  }

  get provider(): 'cpu' | 'cuda' {
    return this.opts.provider;
  }

  async run(target: TryTarget, q: TryQuestion, progress: (message: string) => void, signal?: AbortSignal): Promise<TryPromptResult> {
    if (this.busy) throw new Error('a Try prompt question is already running; wait for it or cancel it');
    this.busy = true;
    if (this.idle) clearTimeout(this.idle);
    try {
      const onnxDir = await this.exportOf(target, progress);
      signal?.throwIfAborted();
      const { engine, info } = await this.engineFor(onnxDir, target.checkpoint, progress);
      signal?.throwIfAborted();
      progress(`Generating with step ${target.checkpoint} on ONNX Runtime (${this.opts.provider})…`);
      return await askEngine(engine, info, q, target.checkpoint, signal ? { signal } : undefined);
    } finally {
      this.busy = false;
      this.idle = setTimeout(() => void this.unload(), this.opts.idleMs ?? 5 * 60_000);
      this.idle.unref?.();
    }
  }

  /** Whether a question on this checkpoint waits for an ONNX export first (its weights are hashed once per runner). */
  async needsExport(checkpointDir: string): Promise<boolean> {
    if (this.exported.has(checkpointDir)) return false;
    if (!(await onnxExportCurrent(checkpointDir))) return true;
    this.exported.set(checkpointDir, onnxExportDir(checkpointDir));
    return false;
  }

  private async exportOf(target: TryTarget, progress: (message: string) => void): Promise<string> {
    const known = this.exported.get(target.checkpointDir);
    if (known) return known;
    progress(`Checking the ONNX export of step ${target.checkpoint}…`);
    if (!(await this.needsExport(target.checkpointDir))) return this.exported.get(target.checkpointDir)!;
    progress(`Exporting step ${target.checkpoint} to ONNX (once; later questions reuse it)…`);
    const dir = await exportCheckpointToOnnx({
      checkpointDir: target.checkpointDir,
      model: await target.model(),
      ...(target.python ? { python: target.python } : {}),
      log: (line) => {
        this.opts.log?.(line);
        progress(line);
      },
    });
    this.exported.set(target.checkpointDir, dir);
    return dir;
  }

  private async engineFor(
    onnxDir: string,
    checkpoint: number,
    progress: (message: string) => void,
  ): Promise<{ engine: Engine; info: ModelInfo }> {
    if (this.loaded?.onnxDir === onnxDir) return this.loaded;
    await this.unload();
    progress(`Loading step ${checkpoint} into ONNX Runtime (${this.opts.provider})…`);
    const engine = createOrtEngine({
      modelDir: onnxDir,
      provider: this.opts.provider,
      ...(this.opts.threads ? { threads: this.opts.threads } : {}),
      ...(this.opts.log ? { log: this.opts.log } : {}),
    });
    try {
      const info = await engine.load({ model: onnxDir, device: this.opts.provider });
      this.loaded = { onnxDir, engine, info };
      return this.loaded;
    } catch (err) {
      await engine.shutdown().catch(() => undefined);
      throw err;
    }
  }

  /** Shuts the loaded engine down (idle, another checkpoint, or the panel closed). */
  async unload(): Promise<void> {
    const l = this.loaded;
    this.loaded = null;
    if (l) await l.engine.shutdown();
  }

  async dispose(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    await this.unload();
  }
}
