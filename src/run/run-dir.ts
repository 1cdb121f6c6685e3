/**
 * The run directory: paths of its parts and run.json (config as given +
 * resolved, schema version, status, pid, times, engine, worker version).
 * run.json is replaced atomically (write + rename); event files are append-only.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { RunStatus } from '../core/types';
import { CONFIG_SCHEMA_VERSION, type RunConfig } from './config-schema';
import type { PretrainConfig } from './pretrain-config';

export const WORKER_VERSION = '0.1.0';

export type EventFile = 'rollouts' | 'metrics' | 'eval' | 'annotations';

export interface RunJson {
  schemaVersion: number;
  id: string;
  /** Absent for an iVGR training run; 'pretrain' for perception pretraining (`ivgr pretrain`). */
  kind?: 'pretrain';
  /** The pretraining recipe, defaults filled (pretraining runs only). */
  pretrain?: PretrainConfig;
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
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-');
  return `${name ?? 'run'}-${stamp}`;
}

export function createRunDir(
  dir: string,
  init: Omit<RunJson, 'schemaVersion' | 'created' | 'updated' | 'workerVersion' | 'status' | 'pid' | 'step'>,
): RunJson {
  if (existsSync(join(dir, 'run.json'))) throw new Error(`${dir}: a run already exists there`);
  const p = runPaths(dir);
  mkdirSync(p.events, { recursive: true });
  mkdirSync(p.checkpoints, { recursive: true });
  const now = new Date().toISOString();
  const run: RunJson = {
    schemaVersion: CONFIG_SCHEMA_VERSION,
    ...init,
    status: 'created',
    pid: null,
    created: now,
    updated: now,
    workerVersion: WORKER_VERSION,
    step: 0,
  };
  writeRunJson(dir, run);
  return run;
}

/** The fields of run.json every reader relies on; the rest passes through as the worker wrote it. */
const runJsonFields = z.looseObject({
  status: z.enum(['created', 'running', 'paused', 'stopped', 'crashed', 'finished']),
  pid: z.number().int().positive().nullable().optional(),
  config: z.record(z.string(), z.unknown()),
});

/** The one run.json reader: the file name and the bad field are in every error. */
export function readRunJson(dir: string): RunJson {
  const file = join(dir, 'run.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${dir}: not a run directory (no run.json)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const r = runJsonFields.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${file}: ${issue?.path.length ? `field "${issue.path.join('.')}": ` : ''}${issue?.message ?? 'not a run.json'}`);
  }
  return { ...(json as RunJson), pid: r.data.pid ?? null };
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
