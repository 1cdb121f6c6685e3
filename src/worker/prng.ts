/**
 * The worker's own deterministic PRNG (xoshiro128**). Its whole state is four
 * 32-bit words, saved in every checkpoint, so a resumed run draws the same
 * shuffles and sampling seeds as an uninterrupted one.
 */
export class Prng {
  private s: Uint32Array;

  private constructor(state: ArrayLike<number>) {
    this.s = Uint32Array.from(state);
    if (this.s.length !== 4 || this.s.every((x) => x === 0)) throw new Error('PRNG state must be four words, not all zero');
  }

  /** Seeds through splitmix32 so nearby seeds give unrelated streams. */
  static fromSeed(seed: number): Prng {
    let x = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      words.push((z ^ (z >>> 16)) >>> 0);
    }
    if (!words.some((w) => w !== 0)) words[0] = 1;
    return new Prng(words);
  }

  static fromState(state: number[]): Prng {
    return new Prng(state);
  }

  state(): number[] {
    return Array.from(this.s);
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 2 ** 32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A seed for an engine call (31-bit, positive). */
  seed(): number {
    return this.nextU32() & 0x7fffffff;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
