/** The Runs view: the tree rows of run-display.ts as vscode TreeItems. */
import * as vscode from 'vscode';
import { groupChildren, runChildren, runNode, type TreeNode } from './run-display';
import type { RunRegistry } from './run-registry';

export class RunsTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly off: () => void;

  constructor(private readonly registry: RunRegistry) {
    this.off = registry.on('changed', () => this.changed.fire(undefined));
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) return this.registry.all().map(runNode);
    const run = this.registry.get(node.runDir);
    if (!run) return [];
    if (node.kind === 'run') return runChildren(run);
    if (node.kind === 'group') return groupChildren(run, node.group);
    return [];
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const collapsible =
      node.kind === 'run' || node.kind === 'group' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
    if (node.kind === 'run') {
      item.tooltip = node.tooltip;
      item.iconPath = new vscode.ThemeIcon(node.icon, node.color ? new vscode.ThemeColor(node.color) : undefined);
      item.contextValue = node.contextValue;
      item.command = { command: 'ivgr.openRun', title: 'Open Run', arguments: [node] };
      const run = this.registry.get(node.runDir);
      if (!run || runChildren(run).length === 0) item.collapsibleState = vscode.TreeItemCollapsibleState.None;
    } else if (node.kind === 'group') {
      item.iconPath = new vscode.ThemeIcon(node.group === 'checkpoints' ? 'save-all' : 'checklist');
    } else if (node.kind === 'checkpoint') {
      item.iconPath = new vscode.ThemeIcon('save');
      item.contextValue = node.contextValue;
    } else {
      item.tooltip = node.tooltip;
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.contextValue = 'ivgrEvaluation';
      item.command = { command: 'ivgr.openRun', title: 'Open Run', arguments: [node] };
    }
    return item;
  }

  dispose(): void {
    this.off();
    this.changed.dispose();
  }
}
