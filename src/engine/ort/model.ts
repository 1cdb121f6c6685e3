/**
 * An exported model on onnxruntime-node: the three sessions (vision encoder, token embedding,
 * decoder with key/value cache) and the loops over them — image features, batched prefill
 * with left padding, token-by-token decoding through the cache, and scoring of targets.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { prepareImage, type ImageSpec } from './image';
import { readManifest, type OrtManifest } from './manifest';
import { ropePositions } from './rope';
import { chooseToken, logSoftmaxAt, SeededRandom } from './sampling';
import { TextCodec } from './text';

export type OrtProvider = 'cpu' | 'cuda';

/** An image as the decoder sees it: its merged embeddings and patch grid. */
export interface ImageFeatures {
  /** [tokens, hidden] */
  embeds: Float32Array;
  grid: [number, number, number];
  tokens: number;
}

/** A prompt ready for the decoder: token ids with image tokens expanded, and its images in order. */
export interface Context {
  ids: number[];
  images: ImageFeatures[];
}

export interface DecodeOptions {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  /** Tokens that end a row (kept as its last token). */
  stops: ReadonlySet<number>;
  /** Called between steps; throws to stop decoding (cancellation, timeout). */
  check?: () => void;
  /** Called once the first token of every row is chosen (time to first token). */
  onFirstToken?: () => void;
}

export interface Continuation {
  /** Chosen tokens, the stop token included when one ended the row. */
  tokens: number[];
  finish: 'stop' | 'length';
}

export class ProviderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Threads per session when none are asked for: half the cores, at most 4 (the model is small next to the spin-up cost). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
}

async function openSession(file: string, provider: OrtProvider, threads: number): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  try {
    return await ort.InferenceSession.create(file, options);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (provider === 'cuda' && /cuda|provider|shared library/i.test(msg)) {
      throw new ProviderError(
        `the CUDA execution provider is not available in this onnxruntime-node (${msg.split('\n')[0]}); ` +
          `install its CUDA build (Linux x64 with CUDA 12: npm install onnxruntime-node --onnxruntime-node-install=cuda12) or use the cpu provider`,
      );
    }
    throw new Error(`cannot open ${file} with onnxruntime (${provider}): ${msg}`);
  }
}

/** Each of `batch` rows of `mask` with one more 1 at its end (the token just fed). */
function appendOnes(mask: BigInt64Array, batch: number): BigInt64Array {
  const width = mask.length / batch;
  const out = new BigInt64Array(batch * (width + 1));
  for (let b = 0; b < batch; b++) {
    out.set(mask.subarray(b * width, (b + 1) * width), b * (width + 1));
    out[b * (width + 1) + width] = 1n;
  }
  return out;
}

function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return new ort.Tensor('int64', data, dims);
}

export class OrtModel {
  private constructor(
    readonly dir: string,
    readonly manifest: OrtManifest,
    readonly codec: TextCodec,
    readonly provider: OrtProvider,
    private readonly vision: ort.InferenceSession,
    private readonly embed: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
  ) {}

  static async open(dir: string, provider: OrtProvider, threads: number): Promise<OrtModel> {
    const manifest = readManifest(dir);
    const codec = new TextCodec(dir);
    const g = manifest.graphs;
    // The CUDA check happens on the first session, before the larger ones are read.
    const embed = await openSession(join(dir, g.embed.file), provider, threads);
    const vision = await openSession(join(dir, g.vision.file), provider, threads);
    const decoder = await openSession(join(dir, g.decoder.file), provider, threads);
    return new OrtModel(dir, manifest, codec, provider, vision, embed, decoder);
  }

  get imageSpec(): ImageSpec {
    return this.manifest.image;
  }

  get vocabSize(): number {
    return this.manifest.text.vocabSize;
  }

  async imageFeatures(path: string): Promise<ImageFeatures> {
    const img = await prepareImage(path, this.imageSpec);
    const perPatch = img.pixels.length / (img.grid[1] * img.grid[2] * img.grid[0]);
    const out = await this.vision.run({
      pixel_values: new ort.Tensor('float32', img.pixels, [img.pixels.length / perPatch, perPatch]),
      grid_thw: int64(img.grid, [1, 3]),
    });
    const embeds = out.image_embeds!.data as Float32Array;
    const tokens = out.image_embeds!.dims[0]!;
    if (tokens !== img.tokens)
      throw new Error(`vision encoder returned ${tokens} image tokens for a grid of ${img.grid.join('x')} (expected ${img.tokens})`);
    return { embeds, grid: img.grid, tokens };
  }

  /** Decoder input embeddings of left-padded rows: token embeddings with image features in the image slots. */
  private async embedRows(contexts: readonly Context[], width: number): Promise<Float32Array> {
    const { pad, image } = this.manifest.tokens;
    const hidden = this.manifest.text.hiddenSize;
    const ids: number[] = [];
    for (const c of contexts) {
      for (let i = c.ids.length; i < width; i++) ids.push(pad);
      ids.push(...c.ids);
    }
    const out = await this.embed.run({ input_ids: int64(ids, [contexts.length, width]) });
    const embeds = out.inputs_embeds!.data as Float32Array;
    contexts.forEach((c, b) => {
      const offset = width - c.ids.length;
      let img = 0;
      let k = 0;
      for (let j = 0; j < c.ids.length; j++) {
        if (c.ids[j] !== image) continue;
        const f = c.images[img];
        if (!f) throw new Error('a prompt has more image tokens than image features');
        embeds.set(f.embeds.subarray(k * hidden, (k + 1) * hidden), (b * width + offset + j) * hidden);
        if (++k === f.tokens) {
          img++;
          k = 0;
        }
      }
      if (img !== c.images.length) throw new Error(`a prompt has ${c.images.length} image(s) but image tokens for ${img}`);
    });
    return embeds;
  }

  private emptyPast(batch: number): Record<string, ort.Tensor> {
    const { layers, kvHeads, headDim } = this.manifest.text;
    const feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; i < layers; i++) {
      feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', new Float32Array(0), [batch, kvHeads, 0, headDim]);
      feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', new Float32Array(0), [batch, kvHeads, 0, headDim]);
    }
    return feeds;
  }

  private async runDecoder(
    embeds: Float32Array,
    batch: number,
    seq: number,
    mask: BigInt64Array,
    positions: BigInt64Array,
    keep: number,
    past: Record<string, ort.Tensor>,
  ): Promise<{ logits: Float32Array; past: Record<string, ort.Tensor> }> {
    const out = await this.decoder.run({
      inputs_embeds: new ort.Tensor('float32', embeds, [batch, seq, this.manifest.text.hiddenSize]),
      attention_mask: new ort.Tensor('int64', mask, [batch, mask.length / batch]),
      position_ids: new ort.Tensor('int64', positions, [3, batch, seq]),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([BigInt(keep)]), []),
      ...past,
    });
    const next: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.manifest.text.layers; i++) {
      next[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
      next[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
    }
    return { logits: out.logits!.data as Float32Array, past: next };
  }

  /** Prefill inputs of left-padded rows: mask, 3-row positions, and each row's next position. */
  private layout(contexts: readonly Context[], width: number): { mask: BigInt64Array; positions: BigInt64Array; next: number[] } {
    const batch = contexts.length;
    const mask = new BigInt64Array(batch * width);
    const positions = new BigInt64Array(3 * batch * width);
    const next: number[] = [];
    contexts.forEach((c, b) => {
      const offset = width - c.ids.length;
      const rope = ropePositions(
        c.ids,
        this.manifest.tokens.image,
        c.images.map((f) => f.grid),
        this.manifest.image.mergeSize,
      );
      for (let j = 0; j < c.ids.length; j++) {
        mask[b * width + offset + j] = 1n;
        for (let r = 0; r < 3; r++) positions[(r * batch + b) * width + offset + j] = BigInt(rope.rows[r]![j]!);
      }
      next.push(rope.next);
    });
    return { mask, positions, next };
  }

  /** Continues every context until it emits a stop token or reaches `maxTokens`. */
  async decode(contexts: readonly Context[], opts: DecodeOptions): Promise<Continuation[]> {
    const batch = contexts.length;
    const vocab = this.vocabSize;
    const width = Math.max(...contexts.map((c) => c.ids.length));
    const prefill = this.layout(contexts, width);
    const { positions, next } = prefill;
    let mask = prefill.mask;
    const rng = new SeededRandom(opts.seed);
    const sampling = { temperature: opts.temperature, topP: opts.topP, suppress: new Set(this.manifest.tokens.suppress) };
    const out: Continuation[] = contexts.map(() => ({ tokens: [], finish: 'length' }));
    const active = new Array<boolean>(batch).fill(true);
    let step = await this.runDecoder(await this.embedRows(contexts, width), batch, width, mask, positions, 1, this.emptyPast(batch));
    for (let t = 0; t < opts.maxTokens; t++) {
      opts.check?.();
      const chosen: number[] = [];
      for (let b = 0; b < batch; b++) {
        if (!active[b]) {
          chosen.push(this.manifest.tokens.pad);
          continue;
        }
        const token = chooseToken(step.logits, b * vocab, vocab, sampling, rng);
        chosen.push(token);
        out[b]!.tokens.push(token);
        if (opts.stops.has(token)) {
          active[b] = false;
          out[b]!.finish = 'stop';
        }
      }
      if (t === 0) opts.onFirstToken?.();
      if (t === opts.maxTokens - 1 || !active.includes(true)) break;
      const embedded = await this.embed.run({ input_ids: int64(chosen, [batch, 1]) });
      mask = appendOnes(mask, batch);
      const pos = new BigInt64Array(3 * batch);
      for (let r = 0; r < 3; r++) for (let b = 0; b < batch; b++) pos[r * batch + b] = BigInt(next[b]! + t);
      step = await this.runDecoder(embedded.inputs_embeds!.data as Float32Array, batch, 1, mask, pos, 1, step.past);
    }
    return out;
  }

  /** Log-probabilities of `target` after the context, one per target token (temperature 1). */
  async score(context: Context, target: readonly number[]): Promise<number[]> {
    const full: Context = { ids: [...context.ids, ...target], images: context.images };
    const width = full.ids.length;
    const { mask, positions } = this.layout([full], width);
    const keep = target.length + 1;
    const { logits } = await this.runDecoder(await this.embedRows([full], width), 1, width, mask, positions, keep, this.emptyPast(1));
    return target.map((token, i) => logSoftmaxAt(logits, i * this.vocabSize, this.vocabSize, token));
  }

  async release(): Promise<void> {
    await Promise.all([this.vision.release(), this.embed.release(), this.decoder.release()]);
  }
}
