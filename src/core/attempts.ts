/**
 * One attempt per step, the last. After an engine restart or a worker killed and resumed, the
 * steps since the restored checkpoint are trained again and their rollouts and metrics appended
 * again (event files are never rewritten); every reader shows the last attempt of each step.
 */

/** The fields of a rollout that place it within an attempt of its step. */
export interface AttemptRow {
  step: number;
  stream: string;
  promptId: string;
  sample: number;
  time: number;
}

const keyOf = (r: AttemptRow): string => `${r.stream}\u0000${r.promptId}\u0000${r.sample}`;

/**
 * Reads rollouts in file order and says where a step starts again: when the step comes back after
 * other steps, or, right after its own rows, when the first rollout of its attempt comes back with
 * another time (the worker writes a step's rollouts together, stamped with one time).
 */
export class AttemptTracker {
  private readonly seen = new Set<number>();
  private block: { step: number; key: string; time: number; uniform: boolean } | null = null;

  /** True when `row` begins a new attempt of a step that already has rows, which it supersedes. */
  next(row: AttemptRow): boolean {
    const b = this.block;
    let again = false;
    if (b === null || b.step !== row.step) {
      again = this.seen.has(row.step);
      this.start(row);
    } else if (b.uniform && row.time !== b.time && keyOf(row) === b.key) {
      again = true;
      this.start(row);
    } else if (row.time !== b.time) {
      b.uniform = false;
    }
    this.seen.add(row.step);
    return again;
  }

  private start(row: AttemptRow): void {
    this.block = { step: row.step, key: keyOf(row), time: row.time, uniform: true };
  }

  /** Continues after rows read elsewhere (a saved index): their steps, and the first row of the last attempt. */
  resume(steps: Iterable<number>, lastAttemptStart: AttemptRow | null): void {
    for (const s of steps) this.seen.add(s);
    this.block = null;
    if (lastAttemptStart) this.start(lastAttemptStart);
  }
}

/** Collects the rollouts `keep` wants from each step's last attempt, fed every rollout in file order. */
export class LastAttempts<T extends AttemptRow> {
  private readonly tracker = new AttemptTracker();
  private kept: T[] = [];

  add(row: T, keep: boolean): void {
    if (this.tracker.next(row)) this.kept = this.kept.filter((r) => r.step !== row.step);
    if (keep) this.kept.push(row);
  }

  get records(): T[] {
    return this.kept;
  }
}

/** Adds a step's record to a list in step order, replacing an earlier attempt of the same step. */
export function putLastOfStep<T extends { step: number }>(list: T[], record: T): void {
  const last = list.at(-1);
  if (last === undefined || last.step < record.step) {
    list.push(record);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.step < record.step) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo]?.step === record.step) list[lo] = record;
  else list.splice(lo, 0, record);
}
