/**
 * Runs the panel's tile requests a few at a time, in the order asked, and skips those the panel
 * dropped before they started: a fast pan over an 8K image would otherwise keep sharp busy making
 * tiles nobody sees while the ones now on screen wait.
 */
export class TileQueue {
  /** Waiting jobs by request id, in arrival order (a Map keeps insertion order). */
  private readonly waiting = new Map<number, () => Promise<void>>();
  private running = 0;

  constructor(private readonly concurrency = 2) {}

  /** Queues `job` under `requestId`; it runs once a slot is free unless dropped first. */
  add(requestId: number, job: () => Promise<void>): void {
    this.waiting.set(requestId, job);
    this.next();
  }

  /** Forgets jobs that have not started; ones already running finish. */
  drop(requestIds: readonly number[]): void {
    for (const id of requestIds) this.waiting.delete(id);
  }

  /** Jobs waiting for a slot. */
  get pending(): number {
    return this.waiting.size;
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiting.size > 0) {
      const [id, job] = this.waiting.entries().next().value as [number, () => Promise<void>];
      this.waiting.delete(id);
      this.running++;
      // A job reports its own failure (as an error message to the panel); the queue only moves on.
      void job()
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.next();
        });
    }
  }
}
