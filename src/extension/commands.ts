/** The iVGR commands: thin VS Code glue over the registry, the detached worker spawner and the pure modules. */
import * as vscode from 'vscode';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import { ConfigError, parseConfigText } from '../run/config-load';
import { newRunId } from '../run/run-dir';
import { spawnDetached, waitForRunJson, workerArgs } from '../run/detached-worker';
import { exportAnnotationFiles } from './annotation-files';
import { checkpointOf, runDirOf } from './command-args';
import { configText, parseConfigProblems } from './config-template';
import { importFlags, importWizard, type ImportPathKind } from './import-wizard';
import { vscodePrompter } from './prompter';
import { readRunFiles } from './run-files';
import type { RunLogs } from './run-logs';
import type { RunRegistry } from './run-registry';
import { allowedActions, type RunAction, type RunView } from './run-display';
import { openProviderSetting, providerUnavailable, readSettings, runsRoots, workerEnv } from './settings';
import type { RunStatusBar } from './status-bar';
import { configWizard, ENGINE_NAMES, evalEngineArgs, evalWizard } from './wizards';

export interface PanelOpener {
  open(runDir: string): Promise<void>;
  /** The run of the focused run panel, if one is focused. */
  activeRun(): string | undefined;
  /** Opens the run's panel on its Runs comparison with these runs (ids). */
  openComparison(runDir: string, runs: string[]): Promise<void>;
}

export interface Services {
  context: vscode.ExtensionContext;
  registry: RunRegistry;
  logs: RunLogs;
  statusBar: RunStatusBar;
  panels: PanelOpener;
}

/** Every process start goes through here: none in an untrusted workspace. */
function trusted(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(
      `iVGR: ${what} starts a process, which an untrusted workspace does not allow. Runs can still be opened and read.`,
      'Manage Workspace Trust',
    )
    .then((a) => {
      if (a) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}

/** The worker runs on the Node inside VS Code: the extension host's executable acting as Node. */
function nodeCommand(): { command: string; env: NodeJS.ProcessEnv } {
  return { command: process.execPath, env: { ...workerEnv(readSettings()), ELECTRON_RUN_AS_NODE: '1' } };
}

async function showError(message: string, actions: Array<{ title: string; run: () => unknown }>): Promise<void> {
  const chosen = await vscode.window.showErrorMessage(message, ...actions.map((a) => a.title));
  await actions.find((a) => a.title === chosen)?.run();
}

async function openAt(file: string, line: number | null): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(file);
  const pos = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
  const editor = await vscode.window.showTextDocument(doc);
  editor.selection = new vscode.Selection(pos, doc.lineAt(pos.line).range.end);
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenter);
}

function runsRoot(): string | undefined {
  return runsRoots(readSettings())[0];
}

/**
 * The run a command applies to: the argument (a panel's control, a Runs item), else the focused
 * run panel's run, else a quick pick among runs that allow `action`.
 */
async function chooseRun(s: Services, arg: unknown, action: RunAction, title: string): Promise<RunView | undefined> {
  const dir = runDirOf(arg) ?? s.panels.activeRun();
  if (dir) {
    let run = s.registry.get(dir);
    if (!run) {
      s.registry.addFolder(dir);
      await s.registry.refresh();
      run = s.registry.get(dir);
    }
    if (!run) void vscode.window.showErrorMessage(`iVGR: ${dir} is not a run folder (${s.registry.problems().get(dir) ?? 'no run.json'}).`);
    return run;
  }
  await s.registry.refresh();
  const runs = s.registry.all().filter((r) => allowedActions(r).includes(action));
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(`iVGR: no run to ${action} right now.`);
    return undefined;
  }
  return pickRun(runs, title);
}

/**
 * The run quick pick. It stays open when focus moves (a live panel's webview can take focus back
 * just after the palette closes), so only Escape or a choice ends it.
 */
async function pickRun(runs: readonly RunView[], title: string): Promise<RunView | undefined> {
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: r.name ?? r.id, description: `${r.status} · step ${r.step}`, detail: r.dir, run: r })),
    { title, ignoreFocusOut: true },
  );
  return picked?.run;
}

async function startRun(s: Services): Promise<void> {
  if (!trusted('Start Training Run')) return;
  const folder = vscode.workspace.workspaceFolders?.[0];
  const root = runsRoot();
  if (!folder || !root) {
    void vscode.window.showErrorMessage('iVGR: open a folder first; runs are written to its runs folder.');
    return;
  }
  const files = await vscode.workspace.findFiles(
    '**/*.{yaml,yml,json}',
    '{**/node_modules/**,**/.venv/**,**/runs/**,**/dist/**,**/package*.json,**/tsconfig*.json,**/.vscode/**}',
    200,
  );
  const candidates: Array<vscode.QuickPickItem & { file?: string }> = [{ label: '$(add) New config from template…', alwaysShow: true }];
  for (const f of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
    const text = await readFile(f.fsPath, 'utf8').catch(() => '');
    // Offer files that look like run configs; validation comes after the pick, with located errors.
    if (/^\s*"?(model|steps|dataset|rewards|streams)"?\s*:/m.test(text))
      candidates.push({ label: vscode.workspace.asRelativePath(f), file: f.fsPath });
  }
  const pick = await vscode.window.showQuickPick(candidates, {
    title: 'Start Training Run',
    placeHolder: 'Run config',
    ignoreFocusOut: true,
  });
  if (!pick) return;
  let configFile = pick.file;
  if (!configFile) {
    configFile = await newConfig(folder.uri.fsPath);
    if (!configFile) return;
  }
  let name: string | undefined;
  try {
    name = parseConfigText(await readFile(configFile, 'utf8'), configFile).resolved.name;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = parseConfigProblems(err.message, configFile);
    const first = problems[0];
    await showError(`iVGR: the config is not valid. ${first ? `${first.field ? `${first.field}: ` : ''}${first.message}` : err.message}`, [
      { title: 'Open Config at Field', run: () => openAt(configFile, first?.line ?? null) },
    ]);
    return;
  }
  const runDir = join(root, newRunId(name ?? basename(configFile, extname(configFile))));
  const cli = s.context.asAbsolutePath(join('dist', 'cli.js'));
  s.statusBar.focus(runDir);
  await launchDetached(s, runDir, workerArgs.train(cli, configFile, runDir), dirname(configFile));
}

/**
 * Starts a detached process that writes `runDir`, so the run outlives the window; the Runs view
 * follows it and its panel opens once run.json is there (or the run log is offered).
 */
async function launchDetached(s: Services, runDir: string, args: string[], cwd?: string): Promise<void> {
  const { command, env } = nodeCommand();
  const pid = await spawnDetached({ command, args, runDir, env, ...(cwd ? { cwd } : {}) });
  s.registry.addFolder(runDir);
  void s.registry.follow(runDir, pid);
  try {
    await waitForRunJson(runDir, pid);
  } catch (err) {
    await showError(`iVGR: ${(err as Error).message}`, [{ title: 'Open Run Log', run: () => openRunLog(s, runDir) }]);
    return;
  }
  await s.panels.open(runDir);
}

async function newConfig(workspace: string): Promise<string | undefined> {
  const settings = readSettings();
  const found = await vscode.workspace.findFiles(
    '**/{config.json,*.jsonl,*.tsv}',
    '{**/node_modules/**,**/.venv/**,**/runs/**,**/dist/**}',
    200,
  );
  const rel = (p: string): string => relative(workspace, p) || '.';
  const models = found.filter((f) => basename(f.fsPath) === 'config.json').map((f) => rel(dirname(f.fsPath)));
  const datasets = [...new Set(found.filter((f) => basename(f.fsPath) !== 'config.json').map((f) => rel(f.fsPath)))];
  const answers = await configWizard(vscodePrompter, { datasets, models, defaultDevice: settings.defaultDevice, defaultName: 'ivgr-run' });
  if (!answers) return undefined;
  const file = join(workspace, `${answers.name}.ivgr.yaml`);
  if (existsSync(file)) {
    const over = await vscode.window.showWarningMessage(`${basename(file)} exists. Replace it?`, { modal: true }, 'Replace');
    if (over !== 'Replace') return undefined;
  }
  writeFileSync(file, configText(answers));
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false, preserveFocus: true });
  return file;
}

function control(s: Services, action: 'pause' | 'resume' | 'stop', run: RunView): void {
  try {
    s.registry.send(run.dir, { type: action });
  } catch (err) {
    void showError(`iVGR: cannot ${action} ${run.name ?? run.id}: ${(err as Error).message}`, [
      { title: 'Open Run Log', run: () => s.logs.show(run.dir, run.id) },
    ]);
  }
}

async function resumeRun(s: Services, arg: unknown): Promise<void> {
  const dir = runDirOf(arg) ?? s.panels.activeRun();
  const run = dir ? await chooseRun(s, dir, 'resume', 'Resume Run') : await chooseRunAny(s, ['resume', 'restart'], 'Resume Run');
  if (!run) return;
  if (run.status === 'paused' && s.registry.isAttached(run.dir)) return control(s, 'resume', run);
  if (!allowedActions(run).includes('restart')) {
    void vscode.window.showInformationMessage(`iVGR: ${run.name ?? run.id} is ${run.status}; nothing to resume.`);
    return;
  }
  if (!trusted('Resume Run')) return;
  const cli = s.context.asAbsolutePath(join('dist', 'cli.js'));
  const { command, env } = nodeCommand();
  const pid = await spawnDetached({ command, args: workerArgs.resume(cli, run.dir), runDir: run.dir, env });
  s.statusBar.focus(run.dir);
  const state = await s.registry.follow(run.dir, pid);
  if (state.kind === 'ended' && state.status === 'crashed') {
    await showError(`iVGR: ${run.name ?? run.id} could not resume: ${state.lastLog.at(-1) ?? 'the worker exited'}`, [
      { title: 'Open Run Log', run: () => s.logs.show(run.dir, run.id) },
    ]);
  }
}

async function chooseRunAny(s: Services, actions: RunAction[], title: string): Promise<RunView | undefined> {
  await s.registry.refresh();
  const runs = s.registry.all().filter((r) => allowedActions(r).some((a) => actions.includes(a)));
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('iVGR: no paused, stopped or crashed run to resume.');
    return undefined;
  }
  return pickRun(runs, title);
}

async function stopRun(s: Services, arg: unknown): Promise<void> {
  const run = await chooseRun(s, arg, 'stop', 'Stop Run');
  if (!run) return;
  const ok = await vscode.window.showWarningMessage(
    `Stop ${run.name ?? run.id} at step ${run.step}?`,
    {
      modal: true,
      detail: 'The worker finishes the current step, writes a checkpoint, then exits. Resume Run continues from that checkpoint.',
    },
    'Stop',
  );
  if (ok === 'Stop') control(s, 'stop', run);
}

/** Runs a short-lived CLI process with a cancellable progress notification; output goes to the run's log. */
function runWithProgress(
  s: Services,
  title: string,
  args: string[],
  log: { dir: string; id: string },
): Promise<{ code: number | 'cancelled'; last: string }> {
  const { command, env } = nodeCommand();
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const channel = await s.logs.channel(log.dir, log.id);
      // Own process group, so cancelling also ends the engine process it starts.
      const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let cancelled = false;
      let last = '';
      token.onCancellationRequested(() => {
        cancelled = true;
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      });
      const onText = (chunk: Buffer): void => {
        for (const line of chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')) {
          channel.info(line);
          last = line;
          progress.report({ message: line.slice(0, 120) });
        }
      };
      child.stdout.on('data', onText);
      child.stderr.on('data', onText);
      const code = await new Promise<number>((resolve) => {
        child.on('error', (err) => {
          channel.error(err.message);
          resolve(1);
        });
        child.on('close', (c) => resolve(c ?? 1));
      });
      return { code: cancelled ? ('cancelled' as const) : code, last };
    }),
  );
}

async function evaluate(s: Services, arg: unknown): Promise<void> {
  const run = await chooseRun(s, arg, 'evaluate', 'Evaluate Checkpoint');
  if (!run) return;
  if (!allowedActions(run).includes('evaluate')) {
    void vscode.window.showInformationMessage(`iVGR: ${run.name ?? run.id} has no checkpoint to evaluate.`);
    return;
  }
  if (!trusted('Evaluate Checkpoint')) return;
  const settings = readSettings();
  const files = readRunFiles(run.dir);
  const splits = [...new Set([files.evalSplit, 'val', 'test', 'train'])];
  const preset = checkpointOf(arg);
  const req = await evalWizard(
    vscodePrompter,
    preset === undefined ? run.checkpoints : [preset],
    splits,
    settings.defaultEvalModes,
    settings.evaluationEngine,
  );
  if (!req) return;
  const cli = s.context.asAbsolutePath(join('dist', 'cli.js'));
  const engine = ENGINE_NAMES[req.engine];
  const args = [
    ...workerArgs.evaluate(cli, run.dir, req.checkpoint, req.split, req.modes),
    ...evalEngineArgs(req.engine, settings.ortProvider),
  ];
  const { code: result, last } = await runWithProgress(
    s,
    `iVGR: evaluating step ${req.checkpoint} on ${engine} (${req.modes.join(', ')})`,
    args,
    run,
  );
  await s.registry.refresh();
  if (result === 0) {
    const a = await vscode.window.showInformationMessage(`iVGR: evaluation of step ${req.checkpoint} finished on ${engine}.`, 'Open Run');
    if (a) await s.panels.open(run.dir);
  } else if (result !== 'cancelled') {
    const actions = [{ title: 'Open Run Log', run: () => s.logs.show(run.dir, run.id) }];
    // The engine names an unavailable execution provider; the fix is the setting the worker was started with.
    if (req.engine === 'ort' && providerUnavailable(last))
      actions.unshift({ title: 'Open Setting', run: async () => void (await openProviderSetting()) });
    await showError(`iVGR: evaluation of step ${req.checkpoint} on ${engine} failed: ${last || `exit ${result}`}`, actions);
  }
}

async function openRun(s: Services, arg: unknown): Promise<void> {
  let dir = runDirOf(arg);
  if (!dir) {
    await s.registry.refresh();
    const items: Array<vscode.QuickPickItem & { dir?: string }> = [
      { label: '$(folder-opened) Open a run folder…', alwaysShow: true },
      ...s.registry.all().map((r) => ({ label: r.name ?? r.id, description: r.status, detail: r.dir, dir: r.dir })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Open Run', ignoreFocusOut: true });
    if (!pick) return;
    dir = pick.dir;
    if (!dir) {
      const uri = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Open Run',
        title: 'A run folder (with run.json) or an imported rollout dump',
      });
      dir = uri?.[0]?.fsPath;
      if (!dir) return;
    }
  }
  if (!existsSync(join(dir, 'run.json')) && !existsSync(join(dir, 'events', 'rollouts.jsonl'))) {
    await showError(`iVGR: ${dir} is not a run folder: it has neither run.json nor events/rollouts.jsonl.`, [
      { title: 'Import Rollout Dump…', run: () => vscode.commands.executeCommand('ivgr.importDump') },
    ]);
    return;
  }
  s.registry.addFolder(dir);
  await s.registry.refresh();
  s.statusBar.focus(dir);
  await s.panels.open(dir);
}

async function importDump(s: Services): Promise<void> {
  if (!trusted('Import Rollout Dump')) return;
  const root = runsRoot();
  if (!root) {
    void vscode.window.showErrorMessage('iVGR: open a folder first; imported runs are written to its runs folder.');
    return;
  }
  const req = await importWizard(vscodePrompter, chooseImportPath);
  if (!req) return;
  const dump = req.source;
  const runDir = join(root, newRunId(`import-${basename(dump, extname(dump)).replace(/[^A-Za-z0-9._-]/g, '_')}`));
  const cli = s.context.asAbsolutePath(join('dist', 'cli.js'));
  const args = [...workerArgs.importDump(cli, dump, runDir), ...importFlags(req)];
  if (req.follow) {
    // A followed import runs detached like a worker: the run stays live across a window reload.
    await launchDetached(s, runDir, args);
    return;
  }
  const { code: result, last } = await runWithProgress(s, `iVGR: importing ${basename(dump)}`, args, {
    dir: runDir,
    id: basename(runDir),
  });
  if (result === 0) return openRun(s, runDir);
  if (result !== 'cancelled')
    await showError(`iVGR: import of ${basename(dump)} failed: ${last || `exit ${result}`}`, [
      { title: 'Open Log', run: () => s.logs.show(runDir, basename(runDir)) },
    ]);
}

async function chooseImportPath(kind: ImportPathKind): Promise<string | undefined> {
  const dialog: Record<ImportPathKind, vscode.OpenDialogOptions> = {
    folder: {
      canSelectFolders: true,
      canSelectFiles: false,
      title: "verl's rollout_data_dir (one {step}.jsonl per step)",
      openLabel: 'Import',
    },
    file: {
      canSelectFiles: true,
      canSelectFolders: false,
      filters: { 'Rollout dump': ['jsonl', 'json'] },
      title: 'A verl or TRL rollout dump (JSONL)',
      openLabel: 'Import',
    },
    dataset: {
      canSelectFiles: true,
      canSelectFolders: false,
      filters: { Dataset: ['parquet', 'jsonl'] },
      title: 'The dataset the dump was trained on',
      openLabel: 'Join Images',
    },
  };
  return (await vscode.window.showOpenDialog(dialog[kind]))?.[0]?.fsPath;
}

async function exportAnnotations(s: Services, arg: unknown): Promise<void> {
  const run = await chooseRun(s, arg, 'export', 'Export Annotations');
  if (!run) return;
  const kinds = await vscode.window.showQuickPick(
    [
      { label: 'SFT', description: 'approved traces as chat messages (JSONL)', picked: true, format: 'sft' as const },
      {
        label: 'DPO',
        description: 'annotated failures paired with a correct trace of the same question (JSONL)',
        picked: true,
        format: 'dpo' as const,
      },
      {
        label: 'Failure cases',
        description: 'annotated failures as a dataset (JSONL, corrected boxes as evidence)',
        picked: true,
        format: 'failures' as const,
      },
    ],
    { title: 'Export Annotations', canPickMany: true, ignoreFocusOut: true },
  );
  if (!kinds || kinds.length === 0) return;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'iVGR: exporting annotations', cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      try {
        return await exportAnnotationFiles(
          run.dir,
          kinds.map((k) => k.format),
          abort.signal,
        );
      } catch (err) {
        if (abort.signal.aborted) return 'cancelled' as const;
        throw err;
      }
    },
  );
  if (outcome === 'cancelled') return;
  const { written, warnings } = outcome;
  const channel = await s.logs.channel(run.dir, run.id);
  for (const w of warnings) channel.warn(`export: ${w}`);
  for (const w of written) for (const why of w.skipped) channel.warn(`export ${basename(w.file)}: skipped ${why}`);
  const skipped = written.reduce((n, w) => n + w.skipped.length, 0);
  const summary = written.map((w) => `${basename(w.file)}: ${w.n}`).join(', ');
  const problems = [
    skipped ? `${skipped} skipped` : '',
    warnings.length ? `${warnings.length} warning${warnings.length > 1 ? 's' : ''}` : '',
  ]
    .filter((p) => p !== '')
    .join(', ');
  const a = await vscode.window.showInformationMessage(
    `iVGR: exported ${summary}${problems ? ` (${problems}, see the run log)` : ''}.`,
    'Open Folder',
    ...(problems ? ['Open Run Log'] : []),
  );
  if (a === 'Open Folder') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(join(run.dir, 'exports')));
  if (a === 'Open Run Log') await s.logs.show(run.dir, run.id);
}

async function openRunLog(s: Services, arg: unknown): Promise<void> {
  const run = await chooseRun(s, arg, 'log', 'Open Run Log');
  if (run) await s.logs.show(run.dir, run.id);
}

async function compareRuns(s: Services): Promise<void> {
  await s.registry.refresh();
  const picks = await vscode.window.showQuickPick(
    s.registry.all().map((r) => ({ label: r.name ?? r.id, description: `${r.status} · step ${r.step}`, detail: r.dir, run: r })),
    { title: 'Compare Runs', canPickMany: true, placeHolder: 'Two or more runs', ignoreFocusOut: true },
  );
  if (!picks || picks.length < 2) {
    if (picks) void vscode.window.showInformationMessage('iVGR: pick at least two runs to compare.');
    return;
  }
  // The first run's panel shows the others overlaid on its charts, with config and eval differences.
  const [first, ...others] = picks.map((p) => p.run);
  await s.panels.openComparison(
    first!.dir,
    others.map((r) => r.id),
  );
}

export function registerCommands(s: Services): vscode.Disposable[] {
  const reg = (id: string, fn: (arg?: unknown) => Promise<void> | void): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (arg?: unknown) => {
      try {
        await fn(arg);
      } catch (err) {
        await showError(`iVGR: ${err instanceof Error ? err.message : String(err)}`, []);
      }
    });
  const simple = (action: 'pause' | 'stop', title: string) => async (arg?: unknown) => {
    const run = await chooseRun(s, arg, action, title);
    if (run) control(s, action, run);
  };
  return [
    reg('ivgr.startRun', () => startRun(s)),
    reg('ivgr.pauseRun', simple('pause', 'Pause Run')),
    reg('ivgr.resumeRun', (a) => resumeRun(s, a)),
    reg('ivgr.stopRun', (a) => stopRun(s, a)),
    reg('ivgr.evaluateCheckpoint', (a) => evaluate(s, a)),
    reg('ivgr.openRun', (a) => openRun(s, a)),
    reg('ivgr.importDump', () => importDump(s)),
    reg('ivgr.exportAnnotations', (a) => exportAnnotations(s, a)),
    reg('ivgr.openRunLog', (a) => openRunLog(s, a)),
    reg('ivgr.compareRuns', () => compareRuns(s)),
    reg('ivgr.refreshRuns', () => s.registry.refresh()),
  ];
}
