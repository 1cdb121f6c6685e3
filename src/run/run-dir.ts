/**
 * The run directory: paths of its parts and run.json (config as given +
 * resolved, schema version, status, pid, times, engine, worker version).
 * run.json is replaced atomically (write + rename); event files are append-only.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStatus } from '../core/types';
import { CONFIG_SCHEMA_VERSION, type RunConfig } from './config-schema';

export const WORKER_VERSION = '0.1.0';

export type EventFile = 'rollouts' | 'metrics' | 'eval' | 'annotations';

export interface RunJson {
  schemaVersion: number;
  id: string;
  /** The config exactly as written. */
  given: unknown;
  /** The config the worker runs with, defaults filled. */
  config: RunConfig;
  /** Where the config came from, when it was a file. */
  configFile?: string;
  status: RunStatus;
  pid: number | null;
  created: string;
  updated: string;
  engine: string;
  workerVersion: string;
  step: number;
  message?: string;
}

export function runPaths(dir: string) {
  return {
    dir,
    runJson: join(dir, 'run.json'),
    events: join(dir, 'events'),
    event: (f: EventFile) => join(dir, 'events', `${f}.jsonl`),
    checkpoints: join(dir, 'checkpoints'),
    checkpoint: (step: number) => join(dir, 'checkpoints', String(step)),
    controlSocket: join(dir, 'control.sock'),
    evalSummary: join(dir, 'eval-summary.json'),
    log: join(dir, 'worker.log'),
  };
}

/** A new run id: the config name (or "run") plus a sortable UTC timestamp. */
export function newRunId(name: string | undefined, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `${name ?? 'run'}-${stamp}`;
}

export function createRunDir(dir: string, init: Omit<RunJson, 'schemaVersion' | 'created' | 'updated' | 'workerVersion' | 'status' | 'pid' | 'step'>): RunJson {
  if (existsSync(join(dir, 'run.json'))) throw new Error(`${dir}: a run already exists there`);
  const p = runPaths(dir);
  mkdirSync(p.events, { recursive: true });
  mkdirSync(p.checkpoints, { recursive: true });
  const now = new Date().toISOString();
  const run: RunJson = { schemaVersion: CONFIG_SCHEMA_VERSION, ...init, status: 'created', pid: null, created: now, updated: now, workerVersion: WORKER_VERSION, step: 0 };
  writeRunJson(dir, run);
  return run;
}

export function readRunJson(dir: string): RunJson {
  const file = join(dir, 'run.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${dir}: not a run directory (no run.json)`);
  }
  let run: unknown;
  try {
    run = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const r = run as Partial<RunJson>;
  if (typeof r !== 'object' || r === null || typeof r.status !== 'string' || typeof r.config !== 'object') {
    throw new Error(`${file}: expected fields "status" and "config"`);
  }
  return run as RunJson;
}

export function writeRunJson(dir: string, run: RunJson): void {
  const file = join(dir, 'run.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...run, updated: new Date().toISOString() }, null, 2) + '\n');
  renameSync(tmp, file);
}

export function updateRunJson(dir: string, patch: Partial<RunJson>): RunJson {
  const run = { ...readRunJson(dir), ...patch };
  writeRunJson(dir, run);
  return run;
}
