/**
 * Lists the runs under a root folder with their status. A run whose run.json
 * says running or paused but whose worker pid is gone crashed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunStatus } from '../core/types';
import { readRunJson } from './run-dir';
import { latestCheckpoint } from './checkpoints';
import { effectiveStatus, isPidAlive } from './process-state';

export interface RunSummary {
  id: string;
  dir: string;
  status: RunStatus;
  step: number;
  totalSteps: number;
  pid: number | null;
  updated: string;
  latestCheckpoint: number | null;
  error?: string;
}

/** The status a reader should show: a live status whose process is dead is "crashed". */
function currentStatus(status: RunStatus, pid: number | null): RunStatus {
  return effectiveStatus(status, pid !== null && isPidAlive(pid));
}

export function summarizeRun(dir: string): RunSummary {
  const id = dir.split(/[\\/]/).filter(Boolean).at(-1) ?? dir;
  try {
    const run = readRunJson(dir);
    return {
      id: run.id ?? id,
      dir,
      status: currentStatus(run.status, run.pid),
      step: run.step ?? 0,
      totalSteps: run.config.steps ?? 0,
      pid: run.pid,
      updated: run.updated ?? '',
      latestCheckpoint: latestCheckpoint(dir)?.step ?? null,
    };
  } catch (err) {
    return {
      id,
      dir,
      status: 'crashed',
      step: 0,
      totalSteps: 0,
      pid: null,
      updated: '',
      latestCheckpoint: null,
      error: (err as Error).message,
    };
  }
}

/** Default folder that holds runs: $IVGR_RUNS, else ./runs. */
export function defaultRunsRoot(): string {
  return resolve(process.env.IVGR_RUNS ?? 'runs');
}

/** The one run lister: runs directly under `root` (folders holding a run.json), newest update first. */
export function listRuns(root: string): RunSummary[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'run.json')))
    .map((d) => summarizeRun(join(root, d.name)))
    .sort((a, b) => b.updated.localeCompare(a.updated));
}
