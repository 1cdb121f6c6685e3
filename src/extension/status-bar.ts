/** The status-bar item of the active run; clicking it opens the run panel. */
import * as vscode from 'vscode';
import { pickActiveRun, statusBarText, statusBarTooltip } from './run-display';
import type { RunRegistry } from './run-registry';

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ivgr.activeRun', vscode.StatusBarAlignment.Left, 50);
  private focused: string | null = null;
  private readonly off: () => void;

  constructor(private readonly registry: RunRegistry) {
    this.item.name = 'iVGR active run';
    this.off = registry.on('changed', () => this.update());
  }

  /** Follows this run from now on (the one last opened or started). */
  focus(runDir: string): void {
    this.focused = runDir;
    this.update();
  }

  private update(): void {
    const run = pickActiveRun(this.registry.all(), this.focused);
    if (!run) {
      this.item.hide();
      return;
    }
    this.item.text = statusBarText(run);
    this.item.tooltip = statusBarTooltip(run);
    this.item.backgroundColor = run.status === 'crashed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.command = { command: 'ivgr.openRun', title: 'Open Run', arguments: [run.dir] };
    this.item.show();
  }

  dispose(): void {
    this.off();
    this.item.dispose();
  }
}
