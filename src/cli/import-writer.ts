/**
 * Writes dump rows into an import run's event files, a step at a time. A step that gains rows
 * later (lines appended to verl's newest step file) is written again whole with a new time stamp:
 * event files are append-only, and every reader shows a step's last attempt, so its group
 * advantages and metrics are those of all its rows.
 */
import type { MetricsRecord } from '../core/types';
import type { DumpRow } from '../run/import-dump';
import { convertRows } from '../run/import-dump';
import type { ImportImages } from '../run/import-images';
import { EventSink, type EventListener } from '../worker/event-sink';

export class ImportWriter {
  private readonly steps = new Map<number, DumpRow[]>();
  private readonly sink: EventSink;
  private lastTime = 0;
  rollouts = 0;
  /** Mean reward per stream of the last step. */
  latestReward: MetricsRecord['reward'] = {};

  constructor(
    runDir: string,
    private readonly images: ImportImages | null,
    listener?: EventListener,
  ) {
    this.sink = new EventSink(runDir, listener);
  }

  /** Adds rows and writes each step they touch, in step order; returns the steps written. */
  async add(rows: readonly DumpRow[]): Promise<number[]> {
    const touched = new Set<number>();
    for (const r of rows) {
      const g = this.steps.get(r.step);
      if (g) g.push(r);
      else this.steps.set(r.step, [r]);
      touched.add(r.step);
    }
    const order = [...touched].sort((a, b) => a - b);
    if (this.images) await this.images.prepare(rows);
    // One stamp per write, later than the last, so a step written again is a new attempt.
    const time = Math.max(Date.now(), this.lastTime + 1);
    this.lastTime = time;
    for (const step of order) {
      const { rollouts, metrics } = convertRows(this.steps.get(step)!, time, (r) => this.images?.imageOf(r));
      for (const r of rollouts) this.sink.append('rollouts', r);
      for (const m of metrics) this.sink.append('metrics', m);
      if (step === this.lastStep) this.latestReward = metrics.at(-1)?.reward ?? {};
    }
    this.sink.flush();
    this.rollouts = [...this.steps.values()].reduce((n, g) => n + g.length, 0);
    return order;
  }

  get stepCount(): number {
    return this.steps.size;
  }

  get lastStep(): number {
    return Math.max(0, ...this.steps.keys());
  }

  close(): void {
    this.sink.close();
  }
}
