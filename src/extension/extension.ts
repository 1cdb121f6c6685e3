/** VS Code entry point: wires the run registry, Runs view, status bar, logs, panel host and commands. */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { registerCommands } from './commands';
import { runToOpenOnStart } from './open-on-start';
import { PanelHost } from './panel/panel-host';
import { RunLogs } from './run-logs';
import { RunRegistry } from './run-registry';
import { allowedActions } from './run-display';
import { RunsTree } from './runs-tree';
import { readSettings, runsRoots } from './settings';
import { RunStatusBar } from './status-bar';

const EXTRA_FOLDERS_KEY = 'ivgr.openedRuns';
/** How often runs not attached over a socket (started elsewhere, or finished) are re-read. */
const POLL_MS = 3000;

export function activate(context: vscode.ExtensionContext): void {
  const registry = new RunRegistry(runsRoots(readSettings()));
  for (const dir of context.workspaceState.get<string[]>(EXTRA_FOLDERS_KEY, [])) registry.addFolder(dir);
  const logs = new RunLogs();
  const tree = new RunsTree(registry);
  const statusBar = new RunStatusBar(registry);
  const panels = new PanelHost(context, registry, logs);

  context.subscriptions.push(
    logs,
    tree,
    statusBar,
    panels,
    { dispose: () => registry.dispose() },
    vscode.window.createTreeView('ivgr.runs', { treeDataProvider: tree, showCollapseAll: true }),
    ...registerCommands({ context, registry, logs, statusBar, panels }),
  );

  registry.on('message', (dir, m) => {
    if (m.type === 'log') void logs.append(dir, registry.get(dir)?.id ?? dir, m);
  });
  registry.on('ended', (dir, s) => {
    const run = registry.get(dir);
    const name = run?.name ?? run?.id ?? dir;
    if (s.status !== 'crashed') {
      void vscode.window.showInformationMessage(`iVGR: ${name} ${s.status} at step ${run?.step ?? '?'}.`);
      return;
    }
    const last = s.lastLog.at(-1) ?? 'the worker exited without a final status';
    void vscode.window.showErrorMessage(`iVGR: ${name} crashed: ${last}`, 'Resume', 'Open Run Log').then((a) => {
      if (a === 'Resume') void vscode.commands.executeCommand('ivgr.resumeRun', dir);
      if (a === 'Open Run Log') void logs.show(dir, run?.id ?? dir);
    });
  });
  // Context keys for the `when` clauses of the command palette and menus.
  registry.on('changed', () => {
    const runs = registry.all();
    const has = (status: string) => runs.some((r) => r.status === status);
    void vscode.commands.executeCommand('setContext', 'ivgr.hasRuns', runs.length > 0);
    void vscode.commands.executeCommand('setContext', 'ivgr.hasTwoRuns', runs.length > 1);
    void vscode.commands.executeCommand('setContext', 'ivgr.hasRunningRun', has('running'));
    void vscode.commands.executeCommand('setContext', 'ivgr.hasPausedRun', has('paused'));
    void vscode.commands.executeCommand(
      'setContext',
      'ivgr.hasRestartableRun',
      runs.some((r) => allowedActions(r).includes('restart')),
    );
    void vscode.commands.executeCommand(
      'setContext',
      'ivgr.hasCheckpoints',
      runs.some((r) => allowedActions(r).includes('evaluate')),
    );
    void context.workspaceState.update(EXTRA_FOLDERS_KEY, registry.folders);
  });
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('ivgr.annotation.tags')) panels.setTags(readSettings().annotationTags);
      if (!e.affectsConfiguration('ivgr.runsFolder')) return;
      registry.setRoots(runsRoots(readSettings()));
      void registry.refresh();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      registry.setRoots(runsRoots(readSettings()));
      void registry.refresh();
    }),
  );
  const timer = setInterval(() => void registry.refresh(), POLL_MS);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
  // Finds runs of this workspace and re-attaches to the live ones (after a reload, or from a second window).
  void registry.refresh();
  const onStart = runToOpenOnStart(
    process.env,
    (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    (d) => existsSync(join(d, 'run.json')),
  );
  if (onStart && 'error' in onStart) void vscode.window.showErrorMessage(`iVGR: ${onStart.error}`);
  else if (onStart) void vscode.commands.executeCommand('ivgr.openRun', onStart.dir);
}

export function deactivate(): void {}
