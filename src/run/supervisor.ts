/**
 * Supervision of run workers from a client that does not own them (the extension, a second
 * window, a terminal): spawn a worker detached in its own process group, find it again through
 * the run directory (run.json pid + control.sock), tell a crash from a clean stop, and read the
 * event files from a byte offset to backfill what happened while no client was attached.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RunStatus } from '../core/types';
import type { WorkerMessage, WorkerStatus } from '../core/protocol/control';
import { ControlClient } from './control-client';
import { effectiveStatus, isPidAlive } from './process-state';

export { effectiveStatus, isPidAlive } from './process-state';

export const CONTROL_SOCKET = 'control.sock';
export const RUN_JSON = 'run.json';
/** stdout and stderr of a worker spawned by a client; the crash report shows its last lines. */
export const WORKER_LOG = 'worker.log';

export type EventFile = 'rollouts' | 'metrics' | 'eval' | 'annotations';

/** The fields of run.json a supervisor needs; everything else in it belongs to the worker. */
export interface RunJsonSummary {
  runId: string;
  status: RunStatus;
  pid: number | null;
  totalSteps: number | null;
  /** The last step the worker recorded in run.json. */
  step: number | null;
  name: string | null;
}

const RUN_STATUSES: readonly RunStatus[] = ['created', 'running', 'paused', 'stopped', 'crashed', 'finished'];

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function pick(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Reads the supervisor's view of run.json; the file name and the bad field are in every error. */
export function parseRunJson(text: string, runDir: string): RunJsonSummary {
  const file = join(runDir, RUN_JSON);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (json === null || typeof json !== 'object') throw new Error(`${file}: expected a JSON object`);
  const status = pick(json, ['status']);
  if (typeof status !== 'string' || !RUN_STATUSES.includes(status as RunStatus)) {
    throw new Error(`${file}: field "status" must be one of ${RUN_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  }
  const pid = pick(json, ['pid']);
  if (pid !== undefined && pid !== null && !(Number.isInteger(pid) && (pid as number) > 0)) {
    throw new Error(`${file}: field "pid" must be a positive integer or null, got ${JSON.stringify(pid)}`);
  }
  const id = pick(json, ['id']) ?? pick(json, ['runId']);
  const name = pick(json, ['config', 'name']) ?? pick(json, ['name']);
  const total =
    num(pick(json, ['totalSteps'])) ??
    num(pick(json, ['config', 'steps'])) ??
    num(pick(json, ['config', 'training', 'steps'])) ??
    num(pick(json, ['resolved', 'steps']));
  return {
    runId: typeof id === 'string' && id !== '' ? id : basename(runDir),
    status: status as RunStatus,
    pid: typeof pid === 'number' ? pid : null,
    totalSteps: total,
    step: num(pick(json, ['step'])),
    name: typeof name === 'string' ? name : null,
  };
}

export interface RunState extends RunJsonSummary {
  runDir: string;
  /** run.json's status corrected for a dead worker. */
  effective: RunStatus;
  pidAlive: boolean;
  socketPresent: boolean;
  /** Latest per-stream mean rewards from metrics.jsonl (its step, when newer than run.json's, wins). */
  reward: { grounded?: number; textual?: number };
}

/** Reads one run directory. Throws with the file name when run.json is missing or malformed. */
export async function inspectRun(runDir: string): Promise<RunState> {
  const text = await readFile(join(runDir, RUN_JSON), 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${join(runDir, RUN_JSON)}: ${err.code === 'ENOENT' ? 'missing (not a run folder)' : err.message}`);
  });
  const summary = parseRunJson(text, runDir);
  const pidAlive = summary.pid !== null && isPidAlive(summary.pid);
  const last = await lastRecord(join(runDir, 'events', 'metrics.jsonl'));
  const reward = pick(last, ['reward']);
  return {
    ...summary,
    runDir,
    effective: effectiveStatus(summary.status, pidAlive),
    pidAlive,
    socketPresent: existsSync(join(runDir, CONTROL_SOCKET)),
    step: num(pick(last, ['step'])) ?? summary.step,
    reward: {
      grounded: num(pick(reward, ['grounded'])) ?? undefined,
      textual: num(pick(reward, ['textual'])) ?? undefined,
    },
  };
}

/** Run folders directly under `root` (those with a run.json), newest first by run.json mtime. */
export async function listRunDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const found: Array<{ dir: string; mtime: number }> = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = join(root, e.name);
    const s = await stat(join(dir, RUN_JSON)).catch(() => null);
    if (s) found.push({ dir, mtime: s.mtimeMs });
  }
  return found.sort((a, b) => b.mtime - a.mtime).map((f) => f.dir);
}

export interface EventLine {
  /** Byte offset of the line in its file. */
  offset: number;
  record: Record<string, unknown>;
}

export interface EventChunk {
  lines: EventLine[];
  /** Where the next read starts: the end of the last complete line. */
  nextOffset: number;
  /** Complete lines that were not a JSON object, as `offset: reason` (the torn last line is not one). */
  problems: string[];
}

/**
 * Reads complete JSONL lines of `file` from `fromOffset`, at most about `maxBytes`. A torn last
 * line (a writer mid-append or a crash mid-write) is left for the next read, never reported.
 */
export async function readEventLines(file: string, fromOffset = 0, maxBytes = 8 << 20): Promise<EventChunk> {
  const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!fh) return { lines: [], nextOffset: fromOffset, problems: [] };
  try {
    const size = (await fh.stat()).size;
    const length = Math.max(0, Math.min(size - fromOffset, maxBytes));
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, fromOffset);
    const lines: EventLine[] = [];
    const problems: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(0x0a, start)) >= 0) {
      const offset = fromOffset + start;
      const text = buf.toString('utf8', start, nl).trim();
      start = nl + 1;
      if (text === '') continue;
      try {
        const record: unknown = JSON.parse(text);
        if (record === null || typeof record !== 'object' || Array.isArray(record)) problems.push(`${file}@${offset}: not a JSON object`);
        else lines.push({ offset, record: record as Record<string, unknown> });
      } catch {
        problems.push(`${file}@${offset}: not valid JSON`);
      }
    }
    return { lines, nextOffset: fromOffset + start, problems };
  } finally {
    await fh.close();
  }
}

/** The last complete JSON object of a JSONL file, or null. Reads only the file's tail. */
export async function lastRecord(file: string): Promise<Record<string, unknown> | null> {
  const lines = await tailLines(file, 2);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const r: unknown = JSON.parse(lines[i] ?? '');
      if (r !== null && typeof r === 'object' && !Array.isArray(r)) return r as Record<string, unknown>;
    } catch {
      // a torn last line; the one before it is the latest complete record
    }
  }
  return null;
}

/** The last `n` non-empty lines of a text file (empty when it does not exist). */
export async function tailLines(file: string, n: number, maxBytes = 64 << 10): Promise<string[]> {
  const fh = await open(file, 'r').catch(() => null);
  if (!fh) return [];
  try {
    const size = (await fh.stat()).size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    // When the window starts mid-file its first line is partial.
    if (length < size) lines.shift();
    return lines.slice(-n);
  } finally {
    await fh.close();
  }
}

export interface SpawnSpec {
  /** Executable, normally the Node binary. */
  command: string;
  args: string[];
  runDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a worker in its own process group, detached from the caller, with stdout and stderr
 * appended to `<run>/worker.log`, so that the caller may exit (or its window reload) without
 * touching the run. Returns the worker's pid.
 */
export function spawnDetached(spec: SpawnSpec): Promise<number> {
  mkdirSync(spec.runDir, { recursive: true });
  const log = openSync(join(spec.runDir, WORKER_LOG), 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    return new Promise((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start ${spec.command}: ${err.message}`)));
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid as number);
      });
    });
  } finally {
    closeSync(log);
  }
}

/**
 * Resolves once a started worker has written run.json (a panel opened earlier would show
 * no title and resolve images against the wrong root); rejects if the worker exits first.
 */
export async function waitForRunJson(runDir: string, pid: number, timeoutMs = 60_000): Promise<void> {
  const file = join(runDir, 'run.json');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (!isPidAlive(pid)) throw new Error(`the worker exited before creating ${file}; see ${join(runDir, WORKER_LOG)}`);
    if (Date.now() > deadline) throw new Error(`the worker did not create ${file} within ${Math.round(timeoutMs / 1000)} s; see ${join(runDir, WORKER_LOG)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Arguments of the `ivgr` CLI (dist/cli.js) for the entry points a client starts. */
export const workerArgs = {
  /** Creates `runDir` from the config and trains in the foreground of the (detached) process. */
  train: (cli: string, config: string, runDir: string): string[] => [cli, 'train', config, '--runs-dir', dirname(runDir), '--run-id', basename(runDir)],
  resume: (cli: string, runDir: string): string[] => [cli, 'resume', runDir],
  evaluate: (cli: string, runDir: string, checkpoint: number, split: string, modes: string[]): string[] => [cli, 'eval', join(runDir, 'checkpoints', String(checkpoint)), '--split', split, '--mode', modes.join(',')],
  importDump: (cli: string, dump: string, runDir: string): string[] => [cli, 'import', dump, '--out', runDir],
};

export type ConnectionState =
  | { kind: 'connected'; status: WorkerStatus }
  | { kind: 'reconnecting' }
  /** The worker is gone: `status` is the run's effective status (stopped, finished, crashed, …). */
  | { kind: 'ended'; status: RunStatus; lastLog: string[] };

export interface AttachOptions {
  /** How often to retry the socket while the worker lives but does not answer (starting up). */
  retryMs?: number;
  /** Lines of worker.log to report with a crash. */
  logLines?: number;
  /** The pid of a worker just spawned, for the time before it writes run.json. */
  pid?: number;
}

/**
 * A live view of one run: connects to its control socket, reconnects while the worker process
 * lives, and reports `ended` once it does not (with the last log lines when it crashed).
 */
export class RunAttachment {
  private client: ControlClient | null = null;
  private stopped = false;
  private readonly since = Date.now();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly messageListeners = new Set<(m: WorkerMessage) => void>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  state: ConnectionState = { kind: 'reconnecting' };

  constructor(
    readonly runDir: string,
    private readonly options: AttachOptions = {},
  ) {}

  onMessage(l: (m: WorkerMessage) => void): () => void {
    this.messageListeners.add(l);
    return () => this.messageListeners.delete(l);
  }

  onState(l: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(l);
    return () => this.stateListeners.delete(l);
  }

  /** Starts connecting; resolves once connected or ended. */
  start(): Promise<ConnectionState> {
    return new Promise((resolve) => {
      const off = this.onState((s) => {
        if (s.kind === 'reconnecting') return;
        off();
        resolve(s);
      });
      void this.tryConnect();
    });
  }

  /** Sends a control message; throws when not connected. */
  send(message: Parameters<ControlClient['send']>[0]): void {
    if (!this.client || this.client.isClosed) throw new Error(`run ${basename(this.runDir)} is not connected`);
    this.client.send(message);
  }

  get connection(): ControlClient | null {
    return this.client;
  }

  /** Drops this client's side only; the worker keeps running. */
  dispose(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.client?.close();
    this.client = null;
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  private async tryConnect(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = await ControlClient.connect(join(this.runDir, CONTROL_SOCKET));
      if (this.stopped) return client.close();
      this.client = client;
      client.on('message', (m) => {
        if (m.type === 'status') this.setState({ kind: 'connected', status: m.status });
        for (const l of this.messageListeners) l(m);
      });
      client.on('close', () => {
        this.client = null;
        if (this.stopped) return;
        this.setState({ kind: 'reconnecting' });
        void this.tryConnect();
      });
      this.setState({ kind: 'connected', status: client.status });
    } catch {
      await this.checkAlive();
    }
  }

  private async checkAlive(): Promise<void> {
    if (this.stopped) return;
    let run: RunState | null = null;
    try {
      run = await inspectRun(this.runDir);
    } catch {
      // run.json not written yet by a worker that is starting; keep trying while the log grows
    }
    const known = this.options.pid;
    // A just-spawned worker is judged by its own pid: run.json may still name the previous one.
    const alive = known !== undefined ? isPidAlive(known) : run !== null && run.pidAlive;
    // A worker that ends cleanly may clear its pid; a run.json rewritten since we attached is its own.
    const rewritten = run !== null && run.pid === null && ((await stat(join(this.runDir, RUN_JSON)).catch(() => null))?.mtimeMs ?? 0) >= this.since;
    const own = run !== null && (known === undefined || run.pid === known || rewritten) ? run : null;
    const finished = own !== null && (own.effective === 'stopped' || own.effective === 'finished');
    if ((!alive && (run !== null || known !== undefined)) || finished) {
      const status = own ? effectiveStatus(own.status, false) : 'crashed';
      const lastLog = status === 'crashed' ? await tailLines(join(this.runDir, WORKER_LOG), this.options.logLines ?? 20) : [];
      this.setState({ kind: 'ended', status, lastLog });
      return;
    }
    this.timer = setTimeout(() => void this.tryConnect(), this.options.retryMs ?? 500);
  }
}
