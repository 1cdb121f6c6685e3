/** The extension's settings (`contributes.configuration`, section "ivgr"), read fresh on each use. */
import * as vscode from 'vscode';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { EvalMode } from '../core/types';
import { DEFAULT_ANNOTATION_TAGS, parseAnnotationTags } from './annotation-tags';
import type { EvalEngine } from './wizards';

export interface Settings {
  /** Python interpreter for the engine (a venv folder resolves to its bin/python), or '' for the default. */
  python: string;
  defaultDevice: string;
  /** Runs folder, relative to the first workspace folder unless absolute. */
  runsFolder: string;
  maxRolloutsInPanel: number;
  defaultEvalModes: EvalMode[];
  /** Engine Evaluate Checkpoint offers first. */
  evaluationEngine: EvalEngine;
  /** Execution provider of the ONNX Runtime engine (evaluation and Try prompt). */
  ortProvider: 'cpu' | 'cuda';
  /** Tags the annotation form offers; the defaults when the setting is not a valid tag list. */
  annotationTags: string[];
}

const MODES: readonly EvalMode[] = ['textual', 'grounded', 'tool'];

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('ivgr');
  const modes = c
    .get<string[]>('evaluation.defaultModes', ['textual', 'grounded', 'tool'])
    .filter((m): m is EvalMode => (MODES as readonly string[]).includes(m));
  return {
    python: c.get<string>('python.path', '').trim(),
    defaultDevice: c.get<string>('defaultDevice', 'cpu'),
    runsFolder: c.get<string>('runsFolder', 'runs'),
    maxRolloutsInPanel: Math.max(100, c.get<number>('panel.maxRollouts', 5000)),
    defaultEvalModes: modes.length > 0 ? modes : [...MODES],
    evaluationEngine: c.get<string>('evaluation.engine', 'torch') === 'ort' ? 'ort' : 'torch',
    ortProvider: c.get<string>('ort.provider', 'cpu') === 'cuda' ? 'cuda' : 'cpu',
    annotationTags: annotationTags(c.get<unknown>('annotation.tags', [...DEFAULT_ANNOTATION_TAGS])),
  };
}

/** The problem last warned about, so a bad tag list is reported once, not on every read. */
let warnedTags: string | null = null;

function annotationTags(value: unknown): string[] {
  const { tags, problem } = parseAnnotationTags(value);
  if (problem !== null && problem !== warnedTags) {
    void vscode.window
      .showWarningMessage(`iVGR: ${problem}.`, 'Open Setting')
      .then((a) => a && vscode.commands.executeCommand('workbench.action.openSettings', 'ivgr.annotation.tags'));
  }
  warnedTags = problem;
  return tags;
}

/** Absolute runs folders: the setting resolved against every workspace folder. */
export function runsRoots(settings: Settings): string[] {
  if (isAbsolute(settings.runsFolder)) return [settings.runsFolder];
  return (vscode.workspace.workspaceFolders ?? []).map((f) => join(f.uri.fsPath, settings.runsFolder));
}

/** The environment a worker starts with: the configured Python for its engine. */
export function workerEnv(settings: Settings): NodeJS.ProcessEnv {
  if (settings.python === '') return { ...process.env };
  let python = settings.python;
  if (existsSync(python) && statSync(python).isDirectory()) python = join(python, 'bin', 'python');
  return { ...process.env, IVGR_PYTHON: python };
}

/** True for the ONNX Runtime engine's error when the configured execution provider cannot be used. */
export function providerUnavailable(message: string): boolean {
  return /execution provider is not available/i.test(message);
}

/** Opens the Settings editor at `ivgr.ort.provider`. */
export function openProviderSetting(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', 'ivgr.ort.provider');
}
