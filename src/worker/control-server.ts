/**
 * Server side of the control channel (`<run>/control.sock`, JSON lines, see
 * src/core/protocol/control.ts): greets each client with `hello`, broadcasts
 * status, events and logs, and hands pause/resume/stop to the worker.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { PROTOCOL_VERSION } from '../core/protocol/version';
import { parseClientMessage, type ClientMessage, type WorkerMessage, type WorkerStatus } from '../core/protocol/control';

/**
 * Serves a run's control socket, or returns null when it cannot listen: the run then goes on,
 * controlled by signals only.
 */
export async function serveControl(
  socketPath: string,
  runId: string,
  currentStatus: () => WorkerStatus,
  onCommand: (message: Exclude<ClientMessage, { type: 'ping' }>) => void,
  warn: (text: string) => void,
): Promise<ControlServer | null> {
  const control = new ControlServer(socketPath, runId, currentStatus, onCommand, warn);
  try {
    await control.listen();
    return control;
  } catch (err) {
    warn(`control socket unavailable (${(err as Error).message}); control by signals only`);
    return null;
  }
}

export class ControlServer {
  private server: Server | null = null;
  private clients = new Set<Socket>();

  constructor(
    readonly socketPath: string,
    private readonly runId: string,
    private readonly currentStatus: () => WorkerStatus,
    private readonly onCommand: (message: Exclude<ClientMessage, { type: 'ping' }>) => void,
    private readonly onWarning: (text: string) => void = () => {},
  ) {}

  async listen(): Promise<void> {
    // A socket file left by a crashed worker would make listen fail with EADDRINUSE.
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl !== -1) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) this.handle(socket, line);
        nl = buffer.indexOf('\n');
      }
    });
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => this.clients.delete(socket));
    this.write(socket, { type: 'hello', protocol: PROTOCOL_VERSION, runId: this.runId, status: this.currentStatus() });
  }

  private handle(socket: Socket, line: string): void {
    const parsed = parseClientMessage(line);
    if (!parsed.ok) {
      this.onWarning(parsed.error);
      this.write(socket, { type: 'log', level: 'warn', source: 'worker', text: parsed.error });
      return;
    }
    if (parsed.message.type === 'ping') this.write(socket, { type: 'pong' });
    else this.onCommand(parsed.message);
  }

  private write(socket: Socket, message: WorkerMessage): void {
    if (!socket.destroyed) socket.write(JSON.stringify(message) + '\n');
  }

  broadcast(message: WorkerMessage): void {
    for (const c of this.clients) this.write(c, message);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.end();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
  }
}
