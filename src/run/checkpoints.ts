/**
 * The checkpoints index: `checkpoints/<step>/` holds the engine's state and
 * `worker-state.json` (step, data cursor, worker PRNG state, config hash, and
 * the SFT steps done when it was taken inside the warm start).
 * worker-state.json is written last, so a folder without it is an interrupted
 * save and is ignored.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DataCursor {
  epoch: number;
  /** Position within the epoch's shuffled order. */
  index: number;
}

export interface WorkerState {
  version: 1;
  step: number;
  cursor: DataCursor;
  /** State of the worker's own PRNG (sampling seeds, shuffles). */
  rng: number[];
  configHash: string;
  time: string;
  /** What produced the checkpoint: "sft" for the warm start, "rl" for RL steps. */
  phase: 'base' | 'sft' | 'rl';
  /** Present when the checkpoint was taken inside the warm start: SFT steps done of the configured total. */
  warmStart?: { done: number; of: number };
  /** "trl": a TRL checkpoint (a model folder, `checkpoints/<step>` links to TRL's `checkpoint-<step>`); "pretrain": an `ivgr pretrain` checkpoint (a model folder). */
  trainer?: 'trl' | 'pretrain';
}

export interface CheckpointEntry {
  step: number;
  dir: string;
  state: WorkerState;
}

export const WORKER_STATE_FILE = 'worker-state.json';

export function writeWorkerState(dir: string, state: WorkerState): void {
  const file = join(dir, WORKER_STATE_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

export function readWorkerState(dir: string): WorkerState {
  const file = join(dir, WORKER_STATE_FILE);
  let s: Partial<WorkerState>;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as Partial<WorkerState>;
  } catch (err) {
    throw new Error(`${file}: cannot read worker state: ${(err as Error).message}`);
  }
  if (typeof s.step !== 'number' || !s.cursor || !Array.isArray(s.rng)) {
    throw new Error(`${file}: expected fields step (number), cursor and rng (array)`);
  }
  return s as WorkerState;
}

/** Complete checkpoints of a run, oldest first. */
export function listCheckpoints(runDir: string): CheckpointEntry[] {
  const root = join(runDir, 'checkpoints');
  if (!existsSync(root)) return [];
  const out: CheckpointEntry[] = [];
  for (const name of readdirSync(root)) {
    if (!/^\d+$/.test(name)) continue;
    const dir = join(root, name);
    if (!existsSync(join(dir, WORKER_STATE_FILE))) continue;
    try {
      out.push({ step: Number(name), dir, state: readWorkerState(dir) });
    } catch {
      continue;
    }
  }
  return out.sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(runDir: string): CheckpointEntry | undefined {
  return listCheckpoints(runDir).at(-1);
}
