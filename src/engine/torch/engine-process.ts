/**
 * The Python engine as a child process speaking JSON-RPC over its stdin/stdout. Owns the
 * process lifecycle: stderr goes line by line to the log, a call past its timeout is
 * cancelled and rejected, and when the process dies every call in flight is rejected with
 * the exit status and the last lines it logged (the worker then restores from a checkpoint).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { delimiter } from 'node:path';
import {
  CancellationTokenSource,
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { EngineError } from '../engine';

export interface EngineProcessOptions {
  python: string;
  /** Folder put on PYTHONPATH (holds `ivgr_engine`). */
  packageDir: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  log: (line: string) => void;
  /** Runs `torch.distributed.run` with these arguments (e.g. `['--nproc_per_node', '2']`) instead of one process. */
  torchrun?: string[];
}

const TAIL_LINES = 20;

export class EngineProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly connection: MessageConnection;
  private readonly tail: string[] = [];
  private readonly inFlight = new Set<(err: EngineError) => void>();
  private exitError: EngineError | null = null;
  private partial = '';
  readonly exited: Promise<void>;

  constructor(private readonly opts: EngineProcessOptions) {
    const args = opts.torchrun ? ['-m', 'torch.distributed.run', ...opts.torchrun, '-m', 'ivgr_engine'] : ['-m', 'ivgr_engine'];
    const inherited = opts.env?.PYTHONPATH ?? process.env.PYTHONPATH;
    this.child = spawn(opts.python, args, {
      cwd: opts.cwd,
      env: {
        ...process.env,
        ...opts.env,
        PYTHONPATH: inherited ? `${opts.packageDir}${delimiter}${inherited}` : opts.packageDir,
        PYTHONUNBUFFERED: '1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => this.onStderr(chunk));
    this.exited = new Promise((resolveExit) => {
      this.child.on('error', (err: NodeJS.ErrnoException) => {
        const hint = err.code === 'ENOENT' ? `; run 'node scripts/setup-python.mjs' to create .venv, or set IVGR_PYTHON` : '';
        this.fail(new EngineError(`cannot start the engine with ${opts.python}: ${err.message}${hint}`, 'spawn', 'spawn'));
        resolveExit();
      });
      this.child.on('exit', (code, signal) => {
        if (this.partial) this.emitLine(this.partial);
        const status = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const last = this.tail.length ? `; last log lines:\n${this.tail.join('\n')}` : '';
        this.fail(new EngineError(`engine process ${status}${last}`, 'exited', 'process'));
        resolveExit();
      });
    });
    // A closed pipe surfaces as an exit above; keep the stream error from becoming an uncaught one.
    this.child.stdin.on('error', () => undefined);
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout), new StreamMessageWriter(this.child.stdin));
    this.connection.onError(([err]) => this.opts.log(`engine protocol error: ${err.message}`));
    this.connection.listen();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitError === null;
  }

  /** Sends one request; resolves with the raw result or rejects with an EngineError. */
  request(method: string, params: object, timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.exitError) return Promise.reject(this.reuseError(method));
    if (signal?.aborted) return Promise.reject(new EngineError(`engine ${method}: cancelled before it was sent`, 'cancelled', method));
    return new Promise((resolveCall, rejectCall) => {
      const source = new CancellationTokenSource();
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.inFlight.delete(onExit);
        source.dispose();
        fn();
      };
      const onExit = (err: EngineError) => finish(() => rejectCall(new EngineError(`engine ${method}: ${err.message}`, err.kind, method)));
      const onAbort = () => source.cancel();
      this.inFlight.add(onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => {
          source.cancel();
          finish(() =>
            rejectCall(new EngineError(`engine ${method}: no answer within ${timeoutMs} ms; the request was cancelled`, 'timeout', method)),
          );
        }, timeoutMs);
      }
      this.connection.sendRequest(method, params, source.token).then(
        (result: unknown) => finish(() => resolveCall(result)),
        (err: unknown) =>
          finish(() => {
            if (err instanceof ResponseError) rejectCall(EngineError.fromCode(method, err.code, err.message));
            else
              rejectCall(
                this.exitError
                  ? this.reuseError(method)
                  : new EngineError(`engine ${method}: ${err instanceof Error ? err.message : String(err)}`, 'protocol', method),
              );
          }),
      );
    });
  }

  /** Asks the engine to exit, then escalates to SIGTERM and SIGKILL if it does not. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitError) return;
    const ask = this.request('shutdown', {}, graceMs, undefined).catch(() => undefined);
    if (!(await waitFor(Promise.all([ask, this.exited]), graceMs))) {
      this.child.kill('SIGTERM');
      if (!(await waitFor(this.exited, 5_000))) this.child.kill('SIGKILL');
    }
    await this.exited;
    this.connection.dispose();
  }

  /** Ends the process at once (e.g. when the worker itself is going down). */
  kill(): void {
    if (!this.exitError) this.child.kill('SIGKILL');
  }

  private reuseError(method: string): EngineError {
    const e = this.exitError as EngineError;
    return new EngineError(`engine ${method}: ${e.message}`, e.kind, method);
  }

  private fail(err: EngineError): void {
    if (this.exitError) return;
    this.exitError = err;
    for (const reject of [...this.inFlight]) reject(err);
    this.inFlight.clear();
  }

  private onStderr(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emitLine(line);
  }

  private emitLine(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (!line) return;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.opts.log(line);
  }
}

function waitFor(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    p.then(
      () => {
        clearTimeout(t);
        res(true);
      },
      () => {
        clearTimeout(t);
        res(true);
      },
    );
  });
}
