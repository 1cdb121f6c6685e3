/**
 * One question across the runs of a workspace: the other runs trained or evaluated on the same
 * dataset, each with its latest step's rollouts of that question and its evaluation samples.
 * Lazy: a run's rollouts are reached through its column index and only the lines of the asked
 * question are read; eval files are streamed and only matching samples kept. No vscode import, so
 * the panel harness drives the same code.
 */
import { join, resolve } from 'node:path';
import { evalRecordSchema, type OtherRunQuestion } from '../core/protocol/webview';
import type { EvalRecord, RolloutRecord } from '../core/types';
import { RolloutQueryService } from '../run/rollout-query';
import { readEventLines } from '../run/supervisor';
import { readRunFiles } from './run-files';

/** A run the workspace knows (from the registry or the run list). */
export interface RunRef {
  id: string;
  name?: string | null;
  dir: string;
}

/** Rows read to find a question's latest step; a group larger than this is cut to it. */
const LATEST_ROWS = 256;

/** The dataset a run was configured with, as one comparable absolute path; null when it names none. */
export function runDataset(runDir: string): string | null {
  const path = readRunFiles(runDir).datasetPath;
  return path === null ? null : resolve(path);
}

export class QuestionAcrossRuns {
  private readonly services = new Map<string, RolloutQueryService>();

  constructor(private readonly runDir: string) {}

  /** The other runs on this run's dataset, keyed by run id (made unique when two runs share one). */
  matching(runs: readonly RunRef[]): (RunRef & { key: string })[] {
    const dataset = runDataset(this.runDir);
    if (dataset === null) return [];
    const self = resolve(this.runDir);
    const used = new Set<string>();
    const out: (RunRef & { key: string })[] = [];
    for (const r of runs) {
      if (resolve(r.dir) === self || runDataset(r.dir) !== dataset) continue;
      let key = r.id;
      for (let n = 2; used.has(key); n++) key = `${r.id}#${n}`;
      used.add(key);
      out.push({ ...r, key });
    }
    return out;
  }

  /** The question `promptId` in every matching run; a run that cannot be read says why instead. */
  async question(promptId: string, runs: readonly RunRef[]): Promise<OtherRunQuestion[]> {
    return Promise.all(
      this.matching(runs).map(async (r): Promise<OtherRunQuestion> => {
        const run = { id: r.key, ...(r.name ? { name: r.name } : {}) };
        try {
          return { run, ...(await this.latestGroup(r.dir, promptId)), evals: await evalsFor(r.dir, promptId) };
        } catch (err) {
          return { run, total: 0, step: null, rollouts: [], evals: [], error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
  }

  /** A rollout of a matching run, by the key `question` gave it (also after a panel reload). */
  async rollout(key: string, id: string, runs: readonly RunRef[]): Promise<RolloutRecord | null> {
    const run = this.matching(runs).find((r) => r.key === key);
    if (!run) throw new Error(`run "${key}" is not a run of the workspace on this run's dataset`);
    return (await this.service(run.dir)).get(id);
  }

  private async service(dir: string): Promise<RolloutQueryService> {
    let s = this.services.get(dir);
    if (!s) this.services.set(dir, (s = new RolloutQueryService(dir)));
    await s.refresh();
    return s;
  }

  private async latestGroup(dir: string, promptId: string): Promise<Pick<OtherRunQuestion, 'total' | 'step' | 'rollouts'>> {
    const service = await this.service(dir);
    const page = await service.query({ promptId }, { key: 'step', dir: 'desc' }, 0, LATEST_ROWS);
    const step = page.rows[0]?.step ?? null;
    const ids = page.rows.filter((row) => row.step === step).map((row) => row.id);
    const rollouts = (await Promise.all(ids.map((id) => service.get(id)))).filter((r): r is RolloutRecord => r !== null);
    return { total: page.total, step, rollouts: rollouts.sort((a, b) => a.stream.localeCompare(b.stream) || a.sample - b.sample) };
  }
}

/** The evaluation samples of one question in a run, streamed from its eval file. */
async function evalsFor(dir: string, promptId: string): Promise<EvalRecord[]> {
  const file = join(dir, 'events', 'eval.jsonl');
  const out: EvalRecord[] = [];
  let offset = 0;
  for (;;) {
    const chunk = await readEventLines(file, offset);
    for (const l of chunk.lines) {
      if (l.record.promptId !== promptId) continue;
      const r = evalRecordSchema.safeParse(l.record);
      if (r.success) out.push(r.data);
    }
    if (chunk.nextOffset === offset) return out;
    offset = chunk.nextOffset;
  }
}
