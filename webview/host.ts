/**
 * The panel's side of the message protocol (src/core/protocol/webview.ts): every message from the
 * extension is validated before any view sees it, and invalid ones are reported, not acted on.
 * A request (PANEL_REPLIES) is a promise of its reply.
 */
import {
  PANEL_REPLIES,
  parseHostMessage,
  type HostMessage,
  type PanelMessage,
  type PanelReply,
  type PanelRequest,
  type PanelRequestType,
} from '../src/core/protocol/webview';
import type { PanelState } from './state';

export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): unknown;
}

declare global {
  function acquireVsCodeApi(): VsCodeApi;
}

type Handler<T extends HostMessage['type']> = (m: Extract<HostMessage, { type: T }>) => void;

/** A request on its way: the reply, and the id the extension knows it by (to drop it). */
export interface PendingRequest<T> {
  readonly id: number;
  /** Rejects with the extension's error message when it could not answer. */
  readonly reply: Promise<T>;
  /** Stops waiting: a later reply is ignored and `reply` never settles. */
  forget(): void;
}

interface Waiting {
  replyType: HostMessage['type'];
  resolve: (m: HostMessage) => void;
  reject: (e: Error) => void;
}

export class Host {
  private readonly handlers = new Map<string, Set<(m: HostMessage) => void>>();
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  readonly api: VsCodeApi;

  constructor(onInvalid: (error: string) => void) {
    this.api = acquireVsCodeApi();
    window.addEventListener('message', (ev: MessageEvent<unknown>) => {
      const r = parseHostMessage(ev.data);
      if (!r.ok) {
        onInvalid(r.error);
        return;
      }
      this.settle(r.message);
      for (const h of this.handlers.get(r.message.type) ?? []) h(r.message);
    });
  }

  /** Sends a request; its reply (or error) settles the returned promise. */
  request<K extends PanelRequestType>(message: PanelRequest<K>): PendingRequest<PanelReply<K>> {
    const id = this.nextId++;
    const reply = new Promise<PanelReply<K>>((resolve, reject) => {
      this.waiting.set(id, { replyType: PANEL_REPLIES[message.type as K], resolve: resolve as (m: HostMessage) => void, reject });
    });
    this.post({ ...message, requestId: id } as unknown as PanelMessage);
    return { id, reply, forget: () => this.waiting.delete(id) };
  }

  private settle(m: HostMessage): void {
    const id = 'requestId' in m ? m.requestId : undefined;
    const w = id === undefined ? undefined : this.waiting.get(id);
    if (!w || id === undefined) return;
    if (m.type === w.replyType) {
      this.waiting.delete(id);
      w.resolve(m);
    } else if (m.type === 'error') {
      this.waiting.delete(id);
      w.reject(new Error(m.message));
    }
  }

  on<T extends HostMessage['type']>(type: T, handler: Handler<T>): void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler as (m: HostMessage) => void);
  }

  post(message: PanelMessage): void {
    this.api.postMessage(message);
  }

  requestId(): number {
    return this.nextId++;
  }

  loadState(): unknown {
    return this.api.getState();
  }

  saveState(state: PanelState): void {
    this.api.setState(state);
  }
}
