/**
 * Which questions each RL step trains on. Every epoch visits the training set
 * once in an order shuffled from (seed, epoch) alone, so the order does not
 * depend on how many random draws happened before; the cursor (epoch, index)
 * is all a checkpoint needs to continue the same sequence. The warm start's
 * SFT batches have their own order (`SftOrder`).
 */
import { interleaveStrata } from '../core/answer-strata';
import type { DataCursor } from '../run/checkpoints';
import { Prng } from './prng';

/** With `strata` (one key per record), each stratum is shuffled and spread evenly through the order. */
export function epochOrder(count: number, seed: number, epoch: number, strata?: readonly string[]): number[] {
  const rng = Prng.fromSeed((seed * 1000003 + epoch * 7919) >>> 0);
  const all = Array.from({ length: count }, (_, i) => i);
  if (!strata) return rng.shuffle(all);
  const groups = new Map<string, number[]>();
  for (const i of all) {
    const group = groups.get(strata[i]!);
    if (group) group.push(i);
    else groups.set(strata[i]!, [i]);
  }
  const keys = [...groups.keys()].sort();
  return interleaveStrata(
    keys.map((k) => rng.shuffle(groups.get(k)!)),
    () => rng.next(),
  );
}

/** The next `batchSize` record indices from `cursor`, and the cursor after them. */
export function nextBatch(
  count: number,
  batchSize: number,
  seed: number,
  cursor: DataCursor,
  strata?: readonly string[],
): { indices: number[]; cursor: DataCursor } {
  if (count <= 0) throw new Error('the training split is empty');
  const indices: number[] = [];
  let { epoch, index } = cursor;
  let order = epochOrder(count, seed, epoch, strata);
  while (indices.length < batchSize) {
    if (index >= count) {
      epoch += 1;
      index = 0;
      order = epochOrder(count, seed, epoch, strata);
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
