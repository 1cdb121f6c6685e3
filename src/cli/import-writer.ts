/**
 * Writes dump rows into an import run's event files, a step at a time. A step that gains rows
 * later (lines appended to verl's newest step file) is written again whole with a new time stamp:
 * event files are append-only, and every reader shows a step's last attempt, so its group
 * advantages and metrics are those of all its rows. Rows are kept only for steps not yet settled,
 * so a long run's rollouts do not pile up in memory.
 */
import type { CoordConvention, MetricsRecord } from '../core/types';
import type { DumpRow } from '../run/import-dump';
import { convertRows } from '../run/import-dump';
import type { ImportImages } from '../run/import-images';
import { EventSink, type EventListener } from '../worker/event-sink';

export class ImportWriter {
  private readonly open = new Map<number, DumpRow[]>();
  private readonly settled = new Set<number>();
  private readonly sink: EventSink;
  private lastTime = 0;
  private maxStep = 0;
  /** Rollouts per step written (a step written again counted once). */
  private readonly counts = new Map<number, number>();
  /** Rows of a step already settled, which can no longer be written (they would replace the whole step). */
  late = 0;
  /** Mean reward per stream of the last step. */
  latestReward: MetricsRecord['reward'] = {};

  constructor(
    runDir: string,
    private readonly images: ImportImages | null,
    listener?: EventListener,
    private readonly convention: CoordConvention = 'qwen2-1000',
  ) {
    this.sink = new EventSink(runDir, listener);
  }

  /** Adds rows and writes each step they touch, in step order; returns the steps written. */
  async add(rows: readonly DumpRow[]): Promise<number[]> {
    const touched = new Set<number>();
    const kept: DumpRow[] = [];
    for (const r of rows) {
      if (this.settled.has(r.step)) {
        this.late++;
        continue;
      }
      const g = this.open.get(r.step);
      if (g) g.push(r);
      else this.open.set(r.step, [r]);
      touched.add(r.step);
      kept.push(r);
      this.counts.set(r.step, (this.counts.get(r.step) ?? 0) + 1);
      this.maxStep = Math.max(this.maxStep, r.step);
    }
    const order = [...touched].sort((a, b) => a - b);
    if (this.images) await this.images.prepare(kept);
    // One stamp per write, later than the last, so a step written again is a new attempt.
    const time = Math.max(Date.now(), this.lastTime + 1);
    this.lastTime = time;
    for (const step of order) {
      const { rollouts, metrics } = convertRows(this.open.get(step)!, time, (r) => this.images?.imageOf(r), this.convention);
      for (const r of rollouts) this.sink.append('rollouts', r);
      for (const m of metrics) this.sink.append('metrics', m);
      if (step === this.maxStep) this.latestReward = metrics.at(-1)?.reward ?? {};
    }
    this.sink.flush();
    return order;
  }

  /**
   * A step's file was written anew (verl resumed from a checkpoint): its rows come again from the
   * start and are written as a new attempt. Without a step, every step (a single dump file).
   */
  reopen(step?: number): void {
    for (const s of step === undefined ? [...this.counts.keys()] : [step]) {
      this.open.delete(s);
      this.settled.delete(s);
      this.counts.delete(s);
    }
  }

  /** Steps before `step` are complete: their rows are dropped, and later rows for them are counted as late. */
  settle(step: number): void {
    for (const s of [...this.open.keys()]) {
      if (s >= step) continue;
      this.open.delete(s);
      this.settled.add(s);
    }
  }

  get stepCount(): number {
    return this.counts.size;
  }

  /** Rollouts written, a step written again counted once. */
  get rollouts(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  get lastStep(): number {
    return this.maxStep;
  }

  close(): void {
    this.sink.close();
  }
}
