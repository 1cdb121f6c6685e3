/**
 * The runs this window knows: every run folder under the runs roots plus folders opened by hand.
 * Live runs are attached over their control socket (and re-attached after a reload, since the
 * registry finds them again through run.json); the others are re-read on refresh. No vscode
 * import: the tree, status bar and panel subscribe to it, and tests drive it with real workers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { WorkerMessage } from '../core/protocol/control';
import { evalSummaryRowSchema } from '../core/protocol/webview';
import type { EvalSummaryRow } from '../core/types';
import { listCheckpoints } from '../run/checkpoints';
import { tailLines } from '../run/jsonl-reader';
import { RunAttachment, type ConnectionState } from '../run/run-attachment';
import { runPaths } from '../run/run-dir';
import { listRuns } from '../run/run-list';
import { inspectRun } from '../run/run-state';
import type { RunView } from './run-display';

export interface RegistryListeners {
  changed: () => void;
  message: (runDir: string, message: WorkerMessage) => void;
  /** A worker this window was attached to is gone (stopped, finished or crashed). */
  ended: (runDir: string, state: Extract<ConnectionState, { kind: 'ended' }>) => void;
}

const summaryFile = z.union([z.array(evalSummaryRowSchema), z.object({ rows: z.array(evalSummaryRowSchema) }).transform((o) => o.rows)]);

/** Rows of eval-summary.json; a missing or unreadable file means no evaluation yet. */
export function readEvalSummary(runDir: string): EvalSummaryRow[] {
  const file = join(runDir, 'eval-summary.json');
  if (!existsSync(file)) return [];
  try {
    const r = summaryFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}

/** Reads one run folder into a view. A folder with events but no run.json is an imported dump. */
export async function readRunView(dir: string): Promise<RunView> {
  if (!existsSync(join(dir, 'run.json')) && existsSync(join(dir, 'events', 'rollouts.jsonl'))) {
    return {
      id: basename(dir),
      dir,
      name: null,
      status: 'finished',
      step: 0,
      totalSteps: 0,
      phase: null,
      reward: {},
      checkpoints: [],
      evals: readEvalSummary(dir),
      lastLog: [],
      imported: true,
      attached: false,
    };
  }
  const s = await inspectRun(dir);
  return {
    id: s.runId,
    dir,
    name: s.name,
    status: s.effective,
    step: s.step ?? 0,
    totalSteps: s.totalSteps ?? 0,
    phase: null,
    reward: s.reward,
    checkpoints: listCheckpoints(dir).map((c) => c.step),
    evals: readEvalSummary(dir),
    lastLog: s.effective === 'crashed' ? await tailLines(runPaths(dir).log, 20) : [],
    imported: s.imported,
    attached: false,
    message: s.message,
  };
}

type ListenerSets = { [K in keyof RegistryListeners]: Set<RegistryListeners[K]> };

export class RunRegistry {
  private readonly views = new Map<string, RunView>();
  private readonly attachments = new Map<string, RunAttachment>();
  private readonly extra = new Set<string>();
  private readonly errors = new Map<string, string>();
  private readonly listeners: ListenerSets = { changed: new Set(), message: new Set(), ended: new Set() };
  private refreshing: Promise<void> | null = null;
  private disposed = false;

  constructor(private roots: string[]) {}

  on<K extends keyof RegistryListeners>(event: K, l: RegistryListeners[K]): () => void {
    this.listeners[event].add(l);
    return () => this.listeners[event].delete(l);
  }

  setRoots(roots: string[]): void {
    this.roots = roots;
  }

  /** Adds a folder outside the runs roots (Open Run). */
  addFolder(dir: string): void {
    this.extra.add(dir);
  }

  get folders(): string[] {
    return [...this.extra];
  }

  all(): RunView[] {
    return [...this.views.values()];
  }

  get(dir: string): RunView | undefined {
    return this.views.get(dir);
  }

  /** Folders that look like runs but could not be read, with the reason. */
  problems(): Map<string, string> {
    return new Map(this.errors);
  }

  isAttached(dir: string): boolean {
    return this.attachments.get(dir)?.state.kind === 'connected';
  }

  /** Sends a control message to an attached run; throws with the reason when it is not attached. */
  send(dir: string, message: Parameters<RunAttachment['send']>[0]): void {
    const a = this.attachments.get(dir);
    if (!a) throw new Error(`${dir}: no worker is running for this run`);
    a.send(message);
  }

  /** Re-reads every run; concurrent calls share one pass. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Follows a worker this window just started, before its run.json exists. */
  async follow(dir: string, pid: number): Promise<ConnectionState> {
    this.attachments.get(dir)?.dispose();
    return this.attach(dir, pid);
  }

  /** Drops this window's connections; workers keep running. */
  dispose(): void {
    this.disposed = true;
    for (const a of this.attachments.values()) a.dispose();
    this.attachments.clear();
  }

  private emit<K extends keyof RegistryListeners>(event: K, ...args: Parameters<RegistryListeners[K]>): void {
    for (const l of this.listeners[event]) (l as (...a: Parameters<RegistryListeners[K]>) => void)(...args);
  }

  private async doRefresh(): Promise<void> {
    const dirs = new Set<string>();
    for (const root of this.roots) for (const r of listRuns(root)) dirs.add(r.dir);
    for (const d of this.extra) dirs.add(d);
    for (const dir of [...this.views.keys()]) if (!dirs.has(dir)) this.views.delete(dir);
    for (const dir of dirs) {
      const live = this.attachments.get(dir);
      try {
        const view = await readRunView(dir);
        this.errors.delete(dir);
        const old = this.views.get(dir);
        // An attached run's live status is fresher than its files.
        if (live?.state.kind === 'connected' && old)
          this.views.set(dir, { ...view, status: old.status, step: old.step, phase: old.phase, reward: old.reward, attached: true });
        else this.views.set(dir, view);
        if (!live && (view.status === 'running' || view.status === 'paused' || view.status === 'created')) void this.attach(dir);
      } catch (err) {
        this.views.delete(dir);
        this.errors.set(dir, err instanceof Error ? err.message : String(err));
      }
    }
    this.emit('changed');
  }

  private attach(dir: string, pid?: number): Promise<ConnectionState> {
    if (this.disposed) return Promise.resolve({ kind: 'ended', status: 'stopped', lastLog: [] });
    const a = new RunAttachment(dir, pid === undefined ? {} : { pid });
    this.attachments.set(dir, a);
    a.onMessage((m) => {
      if (m.type === 'status' || m.type === 'hello') this.applyStatus(dir, m.status);
      this.emit('message', dir, m);
    });
    a.onState((s) => {
      if (s.kind === 'connected') this.applyStatus(dir, s.status);
      if (s.kind !== 'ended') return;
      a.dispose();
      if (this.attachments.get(dir) === a) this.attachments.delete(dir);
      const view = this.views.get(dir);
      if (view) this.views.set(dir, { ...view, status: s.status, attached: false, lastLog: s.lastLog });
      this.emit('ended', dir, s);
      void this.refresh();
    });
    return a.start();
  }

  private applyStatus(dir: string, st: Extract<WorkerMessage, { type: 'status' }>['status']): void {
    const view = this.views.get(dir) ?? {
      id: basename(dir),
      dir,
      name: null,
      status: st.status,
      step: 0,
      totalSteps: 0,
      phase: null,
      reward: {},
      checkpoints: [],
      evals: [],
      lastLog: [],
      imported: false,
      attached: true,
    };
    this.views.set(dir, {
      ...view,
      status: st.status,
      step: st.step,
      totalSteps: st.totalSteps,
      phase: st.phase,
      reward: st.reward,
      attached: true,
      message: st.message ?? view.message,
    });
    this.emit('changed');
  }
}
