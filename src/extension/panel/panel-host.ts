/**
 * The run panels of this window: one WebviewPanel per run (`ivgr.run`), restored after a window
 * reload by a serializer that maps the panel's saved run id back to its folder.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunLogs } from '../run-logs';
import type { RunRegistry } from '../run-registry';
import { panelRunId, resolvePanelRun } from './panel-restore';
import { RunPanel } from './run-panel';

export const PANEL_VIEW_TYPE = 'ivgr.run';
const PANEL_RUNS_KEY = 'ivgr.panelRuns';

export class PanelHost implements vscode.Disposable {
  private readonly panels = new Map<string, RunPanel>();
  private readonly serializer: vscode.Disposable;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly registry: RunRegistry,
    private readonly logs: RunLogs,
  ) {
    this.serializer = vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const known = context.workspaceState.get<Record<string, string>>(PANEL_RUNS_KEY, {});
        await registry.refresh();
        const dir = resolvePanelRun(state, known, registry.all(), (d) => existsSync(join(d, 'run.json')) || existsSync(join(d, 'events')));
        if (!dir) {
          panel.dispose();
          return;
        }
        registry.addFolder(dir);
        await registry.refresh();
        // Already open (IVGR_OPEN_RUN opens a run on activation): one panel per run.
        if (this.panels.has(dir)) {
          panel.dispose();
          return;
        }
        this.adopt(panel, dir);
      },
    });
  }

  async open(runDir: string): Promise<void> {
    const existing = this.panels.get(runDir);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'iVGR run', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [],
    });
    this.adopt(panel, runDir);
    // The panel saves the run id in its state; the serializer maps it back to the folder.
    const id = panelRunId(runDir, this.registry.get(runDir));
    const known = this.context.workspaceState.get<Record<string, string>>(PANEL_RUNS_KEY, {});
    await this.context.workspaceState.update(PANEL_RUNS_KEY, { ...known, [id]: runDir });
  }

  async openComparison(runDir: string, runs: string[]): Promise<void> {
    await this.open(runDir);
    this.panels.get(runDir)?.showComparison(runs);
  }

  /** The run of the focused panel: a command from the palette while it is focused acts on that run. */
  activeRun(): string | undefined {
    for (const [dir, p] of this.panels) if (p.panel.active) return dir;
    return undefined;
  }

  /** Sends a changed tag setting to every open panel. */
  setTags(tags: string[]): void {
    for (const p of this.panels.values()) p.sendTags(tags);
  }

  private adopt(panel: vscode.WebviewPanel, runDir: string): void {
    this.panels.set(runDir, new RunPanel(panel, runDir, this.context, this.registry, this.logs, () => this.panels.delete(runDir)));
  }

  dispose(): void {
    this.serializer.dispose();
    for (const p of this.panels.values()) p.panel.dispose();
  }
}
