/** The wizards' `Prompter` on VS Code quick picks and input boxes. */
import * as vscode from 'vscode';
import type { PickItem, Prompter } from './wizards';

type Item<T> = vscode.QuickPickItem & { value: T };

const toItems = <T>(items: PickItem<T>[]): Item<T>[] =>
  items.map((i) => ({ label: i.label, description: i.description, detail: i.detail, picked: i.picked, value: i.value }));

export const vscodePrompter: Prompter = {
  async pick(title, items, placeHolder) {
    const r = await vscode.window.showQuickPick(toItems(items), { title, placeHolder, ignoreFocusOut: true });
    return r?.value;
  },
  async pickMany(title, items, placeHolder) {
    const r = await vscode.window.showQuickPick(toItems(items), { title, placeHolder, canPickMany: true, ignoreFocusOut: true });
    return r?.map((i) => i.value);
  },
  input(title, prompt, value, validate) {
    return Promise.resolve(
      vscode.window.showInputBox({ title, prompt, value, ignoreFocusOut: true, validateInput: (v) => validate(v) ?? undefined }),
    );
  },
};
