/**
 * What a panel opened on a run reads from its event files: the metrics so far, sent in chunks, and
 * the evaluation records, read once and then only as the file grows.
 */
import { evalRecordSchema, metricsRecordSchema } from '../../core/protocol/webview';
import type { EvalRecord, MetricsRecord } from '../../core/types';
import { readRange } from '../../run/jsonl-reader';
import { runPaths } from '../../run/run-dir';

const METRICS_CHUNK = 2000;

/** Sends every metrics line of the run in chunks; the first chunk (even empty) replaces what the panel showed. */
export async function sendMetrics(runDir: string, send: (records: MetricsRecord[], reset: boolean) => void): Promise<void> {
  const file = runPaths(runDir).event('metrics');
  let offset = 0;
  let batch: MetricsRecord[] = [];
  let first = true;
  const flush = (): void => {
    send(batch, first);
    first = false;
    batch = [];
  };
  for (;;) {
    const chunk = await readRange<Record<string, unknown>>(file, offset, 8 << 20, true);
    for (const l of chunk.lines) {
      const r = metricsRecordSchema.safeParse(l.record);
      if (r.success) batch.push(r.data);
      if (batch.length >= METRICS_CHUNK) flush();
    }
    offset = chunk.nextOffset;
    if (chunk.eof) break;
  }
  flush();
}

/** The run's evaluation records, read on first use and then only as the file grows. */
export class EvalLog {
  private readonly records: EvalRecord[] = [];
  private offset = 0;

  constructor(private readonly runDir: string) {}

  async all(): Promise<EvalRecord[]> {
    const file = runPaths(this.runDir).event('eval');
    for (;;) {
      const chunk = await readRange<Record<string, unknown>>(file, this.offset, 8 << 20, true);
      for (const l of chunk.lines) {
        const r = evalRecordSchema.safeParse(l.record);
        if (r.success) this.records.push(r.data);
      }
      this.offset = chunk.nextOffset;
      if (chunk.eof) return this.records;
    }
  }
}
