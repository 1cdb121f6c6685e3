/**
 * Choosing the next token from a row of logits: greedy (temperature 0) or sampled at a
 * temperature with nucleus (top-p) filtering, as transformers' generate does; never a
 * suppressed token. Sampling draws from a seeded generator, so a seed repeats its samples.
 */

/** A small seeded generator (SplitMix32-style mixing of a Weyl sequence); uniform in [0, 1). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Fold a seed of up to 53 bits into 32.
    this.state = (Math.floor(seed / 2 ** 32) ^ seed) >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 2 ** 32;
  }
}

export interface SamplingOptions {
  temperature: number;
  topP: number;
  /** Token ids never chosen. */
  suppress: ReadonlySet<number>;
}

/** Index of the largest logit that is not suppressed (the first on ties). */
export function argmax(logits: Float32Array, offset: number, size: number, suppress: ReadonlySet<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < size; i++) {
    const v = logits[offset + i]!;
    if (v > bestValue && !suppress.has(i)) {
      best = i;
      bestValue = v;
    }
  }
  if (best < 0) throw new Error('sampling: every token is suppressed or has a -inf logit');
  return best;
}

/** The next token of the row at `offset` (`size` logits). */
export function chooseToken(logits: Float32Array, offset: number, size: number, opts: SamplingOptions, rng: SeededRandom): number {
  if (opts.temperature <= 0) return argmax(logits, offset, size, opts.suppress);
  const maxLogit = logits[argmax(logits, offset, size, opts.suppress) + offset]!;
  const probs = new Float64Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) {
    if (opts.suppress.has(i)) continue;
    const p = Math.exp((logits[offset + i]! - maxLogit) / opts.temperature);
    probs[i] = p;
    total += p;
  }
  let candidates: number[];
  if (opts.topP < 1) {
    // The smallest set of most likely tokens whose mass reaches top-p (at least one).
    const order = Array.from({ length: size }, (_, i) => i)
      .filter((i) => probs[i]! > 0)
      .sort((a, b) => probs[b]! - probs[a]! || a - b);
    candidates = [];
    let mass = 0;
    for (const i of order) {
      candidates.push(i);
      mass += probs[i]! / total;
      if (mass >= opts.topP) break;
    }
    total = candidates.reduce((s, i) => s + probs[i]!, 0);
  } else {
    candidates = [];
    for (let i = 0; i < size; i++) if (probs[i]! > 0) candidates.push(i);
  }
  let u = rng.next() * total;
  for (const i of candidates) {
    u -= probs[i]!;
    if (u < 0) return i;
  }
  return candidates[candidates.length - 1]!;
}

/** log-softmax of the row at `offset`, at `index` (temperature 1, in double precision). */
export function logSoftmaxAt(logits: Float32Array, offset: number, size: number, index: number): number {
  let max = -Infinity;
  for (let i = 0; i < size; i++) max = Math.max(max, logits[offset + i]!);
  let sum = 0;
  for (let i = 0; i < size; i++) sum += Math.exp(logits[offset + i]! - max);
  return logits[offset + index]! - max - Math.log(sum);
}
