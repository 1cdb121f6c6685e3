/**
 * A small fake of the `vscode` API, enough for the extension modules that unit tests load: it
 * records what the user would have seen (messages, pickers, progress notifications, commands run)
 * and answers pickers from a script. Loaded in place of `vscode` by ./use-fake-vscode.ts.
 */

export interface Shown {
  kind: 'warning' | 'info' | 'error';
  message: string;
  items: string[];
}

export interface QuickPickOptionsSeen {
  title?: string;
  canPickMany?: boolean;
}

type PickAnswer = (items: readonly PickItem[], options: QuickPickOptionsSeen) => PickItem | PickItem[] | undefined;
interface PickItem {
  label: string;
  picked?: boolean;
}

type Handler = (...args: unknown[]) => unknown;

/** Everything the fake recorded, and the answers it gives; `reset()` clears it between tests. */
export const fake = {
  trusted: true,
  settings: new Map<string, unknown>(),
  /** Every `getConfiguration(section).get(key, fallback)`, with the section prefixed. */
  settingReads: [] as Array<{ key: string; fallback: unknown }>,
  shown: [] as Shown[],
  quickPicks: [] as QuickPickOptionsSeen[],
  /** Answers for the next pickers, in order; without one a picker takes its first (or its picked) items. */
  pickAnswers: [] as PickAnswer[],
  progress: [] as Array<{ title?: string; cancellable?: boolean }>,
  executed: [] as Array<{ id: string; args: unknown[] }>,
  handlers: new Map<string, Handler>(),
  reset(): void {
    this.trusted = true;
    this.settings.clear();
    this.settingReads = [];
    this.shown = [];
    this.quickPicks = [];
    this.pickAnswers = [];
    this.progress = [];
    this.executed = [];
  },
};

const disposable = { dispose: (): void => undefined };

function show(kind: Shown['kind']) {
  return (message: string, ...rest: unknown[]): Promise<string | undefined> => {
    fake.shown.push({ kind, message, items: rest.filter((r): r is string => typeof r === 'string') });
    return Promise.resolve(undefined);
  };
}

export const workspace = {
  get isTrusted(): boolean {
    return fake.trusted;
  },
  workspaceFolders: undefined as Array<{ uri: { fsPath: string } }> | undefined,
  getConfiguration(section: string) {
    return {
      get<T>(key: string, fallback?: T): T | undefined {
        const full = `${section}.${key}`;
        fake.settingReads.push({ key: full, fallback });
        return fake.settings.has(full) ? (fake.settings.get(full) as T) : fallback;
      },
    };
  },
  findFiles: (): Promise<unknown[]> => Promise.resolve([]),
  asRelativePath: (p: { fsPath: string } | string): string => (typeof p === 'string' ? p : p.fsPath),
  onDidChangeConfiguration: () => disposable,
  onDidChangeWorkspaceFolders: () => disposable,
};

export const window = {
  showWarningMessage: show('warning'),
  showInformationMessage: show('info'),
  showErrorMessage: show('error'),
  showQuickPick(items: readonly PickItem[], options: QuickPickOptionsSeen = {}): Promise<PickItem | PickItem[] | undefined> {
    fake.quickPicks.push({ title: options.title, canPickMany: options.canPickMany });
    const answer = fake.pickAnswers.shift();
    if (answer) return Promise.resolve(answer(items, options));
    return Promise.resolve(options.canPickMany ? items.filter((i) => i.picked) : items[0]);
  },
  showInputBox: (): Promise<string | undefined> => Promise.resolve(undefined),
  showOpenDialog: (): Promise<undefined> => Promise.resolve(undefined),
  withProgress<R>(
    options: { title?: string; cancellable?: boolean },
    task: (
      progress: { report: (v: unknown) => void },
      token: { isCancellationRequested: boolean; onCancellationRequested: (f: () => void) => typeof disposable },
    ) => Promise<R>,
  ): Promise<R> {
    fake.progress.push({ title: options.title, cancellable: options.cancellable });
    return task({ report: () => undefined }, { isCancellationRequested: false, onCancellationRequested: () => disposable });
  },
};

export const commands = {
  registerCommand(id: string, handler: Handler) {
    fake.handlers.set(id, handler);
    return { dispose: () => fake.handlers.delete(id) };
  },
  executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    fake.executed.push({ id, args });
    return Promise.resolve(fake.handlers.get(id)?.(...args));
  },
};

export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 } as const;
export const TextEditorRevealType = { Default: 0, InCenter: 1 } as const;
export const TreeItemCollapsibleState = { None: 0, Collapsed: 1, Expanded: 2 } as const;

export const Uri = {
  file: (fsPath: string) => ({ scheme: 'file', fsPath, path: fsPath }),
};

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
}

export class Selection extends Range {}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: string;
  iconPath?: ThemeIcon;
  contextValue?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    readonly label: string,
    public collapsibleState: number,
  ) {}
}

export class EventEmitter<T> {
  private readonly listeners = new Set<(v: T) => void>();
  readonly event = (f: (v: T) => void) => {
    this.listeners.add(f);
    return { dispose: () => this.listeners.delete(f) };
  };
  fire(v: T): void {
    for (const f of this.listeners) f(v);
  }
  dispose(): void {
    this.listeners.clear();
  }
}
