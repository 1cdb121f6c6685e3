/**
 * What every run worker does around its training loop, whichever trainer runs inside: the status
 * it broadcasts, its lines in worker.log and on the terminal, the control socket, Ctrl-C (pause,
 * then stop) and SIGTERM (stop), and the pause/resume/stop requests its loop takes at a boundary.
 */
import { appendFileSync } from 'node:fs';
import type { RunStatus } from '../core/types';
import type { WorkerStatus } from '../core/protocol/control';
import { runPaths, updateRunJson, type EventFile, type RunJson } from '../run/run-dir';
import { serveControl, type ControlServer } from './control-server';
import { Progress } from './progress';

export type WorkerRequest = 'pause' | 'resume' | 'stop';
export type LogLevel = 'info' | 'warn' | 'error';

export interface ShellOptions {
  /** Install SIGINT/SIGTERM handlers (a foreground or detached worker process). */
  signals?: boolean;
  progress?: Progress;
  /** Called after each request changed what is pending, e.g. to pass it on to a trainer process. */
  onRequest?: (pending: WorkerRequest | null, status: WorkerStatus) => void;
}

export class WorkerShell {
  readonly status: WorkerStatus;
  readonly progress: Progress;
  /** The request the loop has not taken yet. */
  pending: WorkerRequest | null = null;
  private control: ControlServer | null = null;
  private wake: (() => void) | null = null;
  private interrupts = 0;
  private readonly log: string;

  private constructor(
    readonly runDir: string,
    run: RunJson,
    private readonly opts: ShellOptions,
  ) {
    this.progress = opts.progress ?? new Progress();
    this.log = runPaths(runDir).log;
    this.status = { status: 'running', step: run.step ?? 0, totalSteps: run.config.steps, phase: 'starting', reward: {}, pid: process.pid };
  }

  /** Marks the run running under this process, serves its control socket and takes its signals. */
  static async open(runDir: string, run: RunJson, opts: ShellOptions = {}): Promise<WorkerShell> {
    const shell = new WorkerShell(runDir, run, opts);
    updateRunJson(runDir, { status: 'running', pid: process.pid, message: undefined });
    shell.control = await serveControl(
      runPaths(runDir).controlSocket,
      run.id,
      () => ({ ...shell.status }),
      (m) => shell.request(m.type),
      (w) => shell.write('warn', w),
    );
    if (opts.signals) {
      process.on('SIGINT', shell.onSigint);
      process.on('SIGTERM', shell.onSigterm);
    }
    return shell;
  }

  /** A line in worker.log and to connected clients; the terminal shows the worker's own and every warning. */
  write(level: LogLevel, text: string, source: 'worker' | 'engine' = 'worker'): void {
    appendFileSync(this.log, `${new Date().toISOString()} ${level} ${source}: ${text}\n`);
    this.control?.broadcast({ type: 'log', level, source, text });
    if (source === 'worker' || level !== 'info') this.progress.line(`${level === 'info' ? '' : `${level}: `}${text}`);
  }

  setStatus(patch: Partial<WorkerStatus>): void {
    Object.assign(this.status, patch);
    this.control?.broadcast({ type: 'status', status: { ...this.status } });
  }

  /** Relays a new line of one of the run's event files to connected clients. */
  event(file: EventFile, offset: number, record: Record<string, unknown>): void {
    this.control?.broadcast({ type: 'event', file, offset, record });
  }

  /**
   * A resume cancels a pause not yet taken; a pause while paused, or after a stop, changes nothing;
   * a stop always wins.
   */
  request(r: WorkerRequest): void {
    if (r === 'resume') {
      if (this.pending === 'pause') this.pending = null;
      else if (this.status.status === 'paused') this.pending = 'resume';
    } else if (r === 'pause') {
      if (this.status.status !== 'paused' && this.pending !== 'stop') this.pending = 'pause';
    } else this.pending = 'stop';
    this.opts.onRequest?.(this.pending, this.status);
    this.wake?.();
  }

  /** Waits, paused, for a resume or a stop and returns it (still pending: the caller takes it). */
  async nextRequest(): Promise<WorkerRequest> {
    while (this.pending === null) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    return this.pending;
  }

  /** The loop took a resume: a later Ctrl-C pauses again. */
  resumed(): void {
    this.pending = null;
    this.interrupts = 0;
  }

  /** Records a failure in worker.log, run.json and the status; the caller rethrows it. */
  failed(err: unknown): void {
    this.progress.done();
    const message = err instanceof Error ? err.message : String(err);
    this.write('error', message);
    updateRunJson(this.runDir, { status: 'crashed', pid: null, message });
    this.setStatus({ status: 'crashed', message });
  }

  /** The run's final status, in run.json first so a client that hears the broadcast reads the same. */
  ended(final: RunStatus, step?: number): void {
    updateRunJson(this.runDir, { status: final, pid: null, ...(step !== undefined ? { step } : {}) });
    this.setStatus({ status: final, phase: 'idle' });
  }

  async close(): Promise<void> {
    await this.control?.close();
    if (this.opts.signals) {
      process.off('SIGINT', this.onSigint);
      process.off('SIGTERM', this.onSigterm);
    }
  }

  private readonly onSigint = (): void => {
    this.interrupts += 1;
    if (this.interrupts === 1 && this.status.status !== 'paused') {
      this.progress.line('pausing at the end of this step (Ctrl-C again stops)');
      this.request('pause');
    } else {
      this.progress.line('stopping at the end of this step');
      this.request('stop');
    }
  };

  private readonly onSigterm = (): void => this.request('stop');
}
