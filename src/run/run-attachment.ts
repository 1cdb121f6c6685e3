/**
 * A client's live view of a run it does not own (the extension, a second window, a terminal):
 * connects to the worker's control socket, reconnects while the worker lives, and tells a crash
 * from a clean stop once it does not.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RunStatus } from '../core/types';
import type { WorkerMessage, WorkerStatus } from '../core/protocol/control';
import { ControlClient } from './control-client';
import { tailLines } from './jsonl-reader';
import { effectiveStatus, isPidAlive } from './process-state';
import { runPaths } from './run-dir';
import { inspectRun, type RunState } from './run-state';

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
      const client = await ControlClient.connect(runPaths(this.runDir).controlSocket);
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
    const rewritten =
      run !== null && run.pid === null && ((await stat(runPaths(this.runDir).runJson).catch(() => null))?.mtimeMs ?? 0) >= this.since;
    const own = run !== null && (known === undefined || run.pid === known || rewritten) ? run : null;
    const finished = own !== null && (own.effective === 'stopped' || own.effective === 'finished');
    if ((!alive && (run !== null || known !== undefined)) || finished) {
      const status = own ? effectiveStatus(own.status, false) : 'crashed';
      const lastLog = status === 'crashed' ? await tailLines(runPaths(this.runDir).log, this.options.logLines ?? 20) : [];
      this.setState({ kind: 'ended', status, lastLog });
      return;
    }
    this.timer = setTimeout(() => void this.tryConnect(), this.options.retryMs ?? 500);
  }
}
