/**
 * The panel's side of the message protocol (src/core/protocol/webview.ts): every message from the
 * extension is validated before any view sees it, and invalid ones are reported, not acted on.
 */
import { parseHostMessage, type HostMessage, type PanelMessage } from '../src/core/protocol/webview';
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

export class Host {
  private readonly handlers = new Map<string, Set<(m: HostMessage) => void>>();
  private nextId = 1;
  readonly api: VsCodeApi;

  constructor(onInvalid: (error: string) => void) {
    this.api = acquireVsCodeApi();
    window.addEventListener('message', (ev: MessageEvent<unknown>) => {
      const r = parseHostMessage(ev.data);
      if (!r.ok) {
        onInvalid(r.error);
        return;
      }
      for (const h of this.handlers.get(r.message.type) ?? []) h(r.message);
    });
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
