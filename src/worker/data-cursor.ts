/**
 * Which questions each RL step trains on. Every epoch visits the training set
 * once in an order shuffled from (seed, epoch) alone, so the order does not
 * depend on how many random draws happened before; the cursor (epoch, index)
 * is all a checkpoint needs to continue the same sequence. The warm start's
 * SFT batches have their own order (`SftOrder`).
 */
import type { DataCursor } from '../run/checkpoints';
import { Prng } from './prng';

export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const rng = Prng.fromSeed((seed * 1000003 + epoch * 7919) >>> 0);
  return rng.shuffle(Array.from({ length: count }, (_, i) => i));
}

/** The next `batchSize` record indices from `cursor`, and the cursor after them. */
export function nextBatch(count: number, batchSize: number, seed: number, cursor: DataCursor): { indices: number[]; cursor: DataCursor } {
  if (count <= 0) throw new Error('the training split is empty');
  const indices: number[] = [];
  let { epoch, index } = cursor;
  let order = epochOrder(count, seed, epoch);
  while (indices.length < batchSize) {
    if (index >= count) {
      epoch += 1;
      index = 0;
      order = epochOrder(count, seed, epoch);
    }
    indices.push(order[index]!);
    index += 1;
  }
  return { indices, cursor: { epoch, index } };
}

/**
 * The warm start's batches: shuffled passes over the SFT examples, drawn from one seed, so the
 * batch of SFT step k is found again by drawing k batches (how a resumed warm start continues).
 */
export class SftOrder {
  private readonly rng: Prng;
  private order: number[] = [];

  constructor(
    private readonly count: number,
    private readonly batchSize: number,
    seed: number,
  ) {
    this.rng = Prng.fromSeed(seed);
  }

  next(): number[] {
    if (this.order.length < this.batchSize)
      this.order = this.order.concat(this.rng.shuffle(Array.from({ length: this.count }, (_, k) => k)));
    return this.order.splice(0, this.batchSize);
  }
}
