/** Streams events/rollouts.jsonl as readers show it: the last attempt of each step (core/attempts.ts). */
import { LastAttempts } from '../core/attempts';
import { rolloutRecordSchema } from '../core/protocol/webview';
import type { RolloutRecord } from '../core/types';
import { parser, readRecords } from './jsonl-reader';

/** The valid rollouts `keep` wants, of each step's last attempt, in file order. */
export async function readLastAttempts(file: string, keep: (r: RolloutRecord) => boolean, signal?: AbortSignal): Promise<RolloutRecord[]> {
  const last = new LastAttempts<RolloutRecord>();
  // Every rollout goes through the tracker; only the collector keeps records.
  await readRecords(
    file,
    parser(rolloutRecordSchema),
    (r) => {
      last.add(r, keep(r));
      return false;
    },
    signal,
  );
  return last.records;
}
