/**
 * A panel following its run: worker status and metrics go to the panel at once; rollouts,
 * evaluations and annotations are re-read from the files at most every few hundred milliseconds,
 * however fast the worker appends them.
 */
import type { WorkerMessage } from '../../core/protocol/control';
import { metricsRecordSchema } from '../../core/protocol/webview';
import type { MetricsRecord } from '../../core/types';
import type { RunRegistry } from '../run-registry';

export interface LiveTargets {
  status(status: Extract<WorkerMessage, { type: 'status' }>['status']): void;
  metrics(record: MetricsRecord): void;
  rollouts(): Promise<void>;
  evals(): void;
  annotations(): Promise<void>;
  /** The worker is gone. */
  ended(): void;
  /** The registry re-read the runs (checkpoints, eval-summary.json). */
  changed(): void;
  error(message: string): void;
}

/** Subscribes to the run's events; returns the unsubscribe, which also drops re-reads not yet due. */
export function followRun(registry: RunRegistry, runDir: string, to: LiveTargets): () => void {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const later = (key: string, ms: number, fn: () => Promise<void> | void): void => {
    if (timers.has(key)) return;
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        void Promise.resolve(fn()).catch((err: unknown) => to.error(String(err instanceof Error ? err.message : err)));
      }, ms),
    );
  };
  const offs = [
    registry.on('message', (dir, m) => {
      if (dir !== runDir) return;
      if (m.type === 'status') to.status(m.status);
      if (m.type !== 'event') return;
      if (m.file === 'metrics') {
        const r = metricsRecordSchema.safeParse(m.record);
        if (r.success) to.metrics(r.data);
      } else if (m.file === 'rollouts') later('rollouts', 400, () => to.rollouts());
      else if (m.file === 'eval') later('eval', 1000, () => to.evals());
      else later('annotations', 300, () => to.annotations());
    }),
    registry.on('ended', (dir) => {
      if (dir === runDir) to.ended();
    }),
    registry.on('changed', () => to.changed()),
  ];
  return () => {
    for (const off of offs) off();
    for (const t of timers.values()) clearTimeout(t);
  };
}
