/**
 * Follows the event files another process appends to (a TRL run's Python side) and hands each
 * new complete line to the worker's broadcast, as the ivgr trainer's EventSink does for its own.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { EventFile } from '../run/run-dir';
import { runPaths } from '../run/run-dir';

const FILES: readonly EventFile[] = ['rollouts', 'metrics', 'eval'];

export class EventFollower {
  private readonly offsets = new Map<EventFile, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly runDir: string,
    private readonly onRecord: (file: EventFile, offset: number, record: Record<string, unknown>) => void,
  ) {
    // Lines already there were written before this worker and are read from the files by clients.
    for (const f of FILES) this.offsets.set(f, this.size(f));
  }

  start(everyMs = 250): void {
    this.timer ??= setInterval(() => this.poll(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.poll();
  }

  private size(f: EventFile): number {
    const file = runPaths(this.runDir).event(f);
    return existsSync(file) ? statSync(file).size : 0;
  }

  /** Reads every complete line past the last offset; a partial last line waits for the next poll. */
  poll(): void {
    for (const f of FILES) {
      const start = this.offsets.get(f) ?? 0;
      const end = this.size(f);
      if (end <= start) continue;
      const fd = openSync(runPaths(this.runDir).event(f), 'r');
      const buf = Buffer.alloc(end - start);
      try {
        readSync(fd, buf, 0, buf.length, start);
      } finally {
        closeSync(fd);
      }
      let pos = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) break;
        const line = buf.subarray(pos, nl).toString('utf8').trim();
        if (line) {
          try {
            this.onRecord(f, start + pos, JSON.parse(line) as Record<string, unknown>);
          } catch {
            // A torn line is skipped here as the readers skip it.
          }
        }
        pos = nl + 1;
      }
      this.offsets.set(f, start + pos);
    }
  }
}
