/**
 * What the panel's Runs comparison shows of each run: its metrics, resolved config and evaluation
 * table, read from the run folder. A run that cannot be read comes back with its error.
 */
import type { ComparedRun } from '../../core/protocol/webview';
import type { MetricsRecord } from '../../core/types';
import { readRunFiles } from '../run-files';
import { readEvalSummary } from '../run-registry';
import { sendMetrics } from './backfill';
import type { RunRef } from './question-runs';

export async function readComparedRun(ref: RunRef): Promise<ComparedRun> {
  const base = { id: ref.id, ...(ref.name ? { name: ref.name } : {}) };
  try {
    const metrics: MetricsRecord[] = [];
    await sendMetrics(ref.dir, (records) => metrics.push(...records));
    return { ...base, metrics, config: readRunFiles(ref.dir).config, evals: readEvalSummary(ref.dir) };
  } catch (err) {
    return { ...base, metrics: [], config: {}, evals: [], error: err instanceof Error ? err.message : String(err) };
  }
}

/** This run first, then the asked runs among `others` (unknown ids are left out). */
export async function compareRuns(self: RunRef, others: readonly RunRef[], asked: readonly string[]) {
  const chosen = asked.flatMap((id) => others.filter((r) => r.id === id && r.dir !== self.dir));
  return {
    candidates: others.filter((r) => r.dir !== self.dir).map((r) => ({ id: r.id, ...(r.name ? { name: r.name } : {}) })),
    runs: await Promise.all([self, ...chosen].map(readComparedRun)),
  };
}
