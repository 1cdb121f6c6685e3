/**
 * What a client that does not own a run sees of it: run.json corrected for a dead worker, whether
 * its control socket is there, and the latest per-stream rewards from metrics.jsonl.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { RunStatus } from '../core/types';
import { lastRecord } from './jsonl-reader';
import { effectiveStatus, isPidAlive } from './process-state';
import { readRunJson, runPaths } from './run-dir';

export interface RunState {
  runDir: string;
  runId: string;
  name: string | null;
  /** run.json's status as written. */
  status: RunStatus;
  /** run.json's status corrected for a dead worker. */
  effective: RunStatus;
  pid: number | null;
  pidAlive: boolean;
  socketPresent: boolean;
  totalSteps: number | null;
  /** The latest step: metrics.jsonl's when newer than run.json's. */
  step: number | null;
  /** Latest per-stream mean rewards from metrics.jsonl. */
  reward: { grounded?: number; textual?: number };
  /** The worker's last message (the error of a crash). */
  message?: string;
  /** Made by `ivgr import`. */
  imported: boolean;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Reads one run directory. Throws with the file name when run.json is missing or malformed. */
export async function inspectRun(runDir: string): Promise<RunState> {
  const run = readRunJson(runDir);
  const paths = runPaths(runDir);
  const pidAlive = run.pid !== null && isPidAlive(run.pid);
  const last = await lastRecord(paths.event('metrics'));
  const reward = (last?.reward ?? {}) as Record<string, unknown>;
  const json = run as unknown as Record<string, unknown>;
  return {
    runDir,
    runId: typeof run.id === 'string' && run.id !== '' ? run.id : basename(runDir),
    name: typeof run.config.name === 'string' ? run.config.name : null,
    status: run.status,
    effective: effectiveStatus(run.status, pidAlive),
    pid: run.pid,
    pidAlive,
    socketPresent: existsSync(paths.controlSocket),
    totalSteps: num(run.config.steps),
    step: num(last?.step) ?? num(run.step),
    reward: { grounded: num(reward.grounded) ?? undefined, textual: num(reward.textual) ?? undefined },
    ...(typeof run.message === 'string' ? { message: run.message } : {}),
    // `ivgr import` writes engine 'import'.
    imported: json.imported === true || run.engine === 'import',
  };
}
