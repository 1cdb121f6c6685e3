/**
 * Client side of a worker's control channel (`<run>/control.sock`, JSON lines, see
 * src/core/protocol/control.ts). One instance is one connection; reconnection is the
 * run attachment's job (run-attachment.ts) because only it knows whether the worker is still alive.
 */
import { connect, type Socket } from 'node:net';
import { parseWorkerMessage, type ClientMessage, type WorkerMessage, type WorkerStatus } from '../core/protocol/control';

export interface ControlClientEvents {
  message: (message: WorkerMessage) => void;
  /** A line the worker sent that does not match the protocol; the connection stays open. */
  protocolError: (error: string) => void;
  close: () => void;
}

type Listeners = { [K in keyof ControlClientEvents]: Set<ControlClientEvents[K]> };

export class ControlClient {
  private readonly listeners: Listeners = { message: new Set(), protocolError: new Set(), close: new Set() };
  private buffer = '';
  private closed = false;
  /** The latest status the worker reported (from `hello`, then every `status`). */
  status: WorkerStatus;

  private constructor(
    private readonly socket: Socket,
    readonly runId: string,
    status: WorkerStatus,
    pending: string,
  ) {
    this.status = status;
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('utf8')));
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
    // Lines that arrived in the same chunk as `hello` are delivered after listeners can attach.
    if (pending) queueMicrotask(() => this.onData(pending));
  }

  /**
   * Connects and waits for the worker's `hello`. Rejects when the socket is absent, refuses, or no
   * valid `hello` arrives within `timeoutMs`.
   */
  static connect(socketPath: string, timeoutMs = 3000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      let buf = '';
      let settled = false;
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(`control socket ${socketPath}: ${why}`));
      };
      const timer = setTimeout(() => fail(`no hello within ${timeoutMs} ms`), timeoutMs);
      const onData = (chunk: Buffer): void => {
        buf += chunk.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const parsed = parseWorkerMessage(buf.slice(0, nl));
        if (!parsed.ok) return fail(parsed.error);
        if (parsed.message.type !== 'hello') return fail(`expected hello, got ${parsed.message.type}`);
        settled = true;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        resolve(new ControlClient(socket, parsed.message.runId, parsed.message.status, buf.slice(nl + 1)));
      };
      const onError = (err: Error): void => fail(err.message);
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', () => fail('closed before hello'));
    });
  }

  on<K extends keyof ControlClientEvents>(event: K, listener: ControlClientEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(message: ClientMessage): void {
    if (this.closed) throw new Error(`control channel of run ${this.runId} is closed`);
    this.socket.write(JSON.stringify(message) + '\n');
  }

  /** Resolves with the first worker message that satisfies `predicate`; rejects on close or timeout. */
  waitFor(predicate: (m: WorkerMessage) => boolean, timeoutMs = 5000): Promise<WorkerMessage> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        offMessage();
        offClose();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`run ${this.runId}: no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const offMessage = this.on('message', (m) => {
        if (!predicate(m)) return;
        done();
        resolve(m);
      });
      const offClose = this.on('close', () => {
        done();
        reject(new Error(`run ${this.runId}: control channel closed`));
      });
    });
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
    this.onClose();
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      const parsed = parseWorkerMessage(line);
      if (!parsed.ok) {
        for (const l of this.listeners.protocolError) l(parsed.error);
        continue;
      }
      if (parsed.message.type === 'status' || parsed.message.type === 'hello') this.status = parsed.message.status;
      for (const l of this.listeners.message) l(parsed.message);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.listeners.close) l();
  }
}
