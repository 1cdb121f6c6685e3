/**
 * One end-to-end session: the packaged extension installed into a fresh code-server, a workspace on
 * disk, and Debian's Chromium driven by playwright-core. Everything lives in one temporary folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { installExtension, startCodeServer, type CodeServer } from '../../scripts/code-server.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from '../webview/harness/chromium';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const artifactsDir = join(repoRoot, 'test-artifacts', 'e2e');

export interface StudioSession {
  root: string;
  workspace: string;
  page: Page;
  server: CodeServer;
  /** Console errors the workbench and webviews printed that name the extension. */
  extensionErrors(): string[];
  /** Saves a full-window screenshot under test-artifacts/e2e/ and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Builds the vsix from the current tree with the same script as `npm run package`. */
export function packageVsix(outFile: string): void {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package-vsix.mjs'), '--out', outFile], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`npm run package failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** The Python the engine should use: $IVGR_PYTHON, else the repo's .venv when it exists. */
function enginePython(): string | undefined {
  if (process.env.IVGR_PYTHON) return process.env.IVGR_PYTHON;
  const venv = join(repoRoot, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : undefined;
}

/** User settings that keep the workbench quiet and deterministic: no welcome page, tips, trust prompt or updates. */
function userSettings(python: string | undefined): Record<string, unknown> {
  return {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'security.workspace.trust.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'window.restoreWindows': 'none',
    ...(python ? { 'ivgr.python.path': python } : {}),
  };
}

/** Run workers are detached from the window by design; a session must not leave them training. */
function stopWorkers(runsDir: string): void {
  if (!existsSync(runsDir)) return;
  for (const id of readdirSync(runsDir)) {
    try {
      const { pid, status } = JSON.parse(readFileSync(join(runsDir, id, 'run.json'), 'utf8')) as { pid?: unknown; status?: unknown };
      const live = status === 'created' || status === 'running' || status === 'paused';
      if (live && typeof pid === 'number' && pid > 0) process.kill(pid, 'SIGTERM');
    } catch {
      // no run.json, or the worker has already exited
    }
  }
}

export async function openStudio(opts: { populateWorkspace: (dir: string) => void; log?: (text: string) => void }): Promise<StudioSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)`);
  mkdirSync(artifactsDir, { recursive: true });
  // Screenshots of an earlier session would pass for this one's.
  for (const f of readdirSync(artifactsDir)) rmSync(join(artifactsDir, f), { force: true });
  const root = mkdtempSync(join(tmpdir(), 'ivgr-e2e-'));
  const workspace = join(root, 'workspace');
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  mkdirSync(workspace);
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(userSettings(enginePython()), null, 2));
  opts.populateWorkspace(workspace);

  // IVGR_E2E_VSIX tests a given build (a release artefact) instead of packaging the current tree.
  const vsix = process.env.IVGR_E2E_VSIX ? resolve(process.env.IVGR_E2E_VSIX) : join(root, 'ivgr-studio.vsix');
  if (!process.env.IVGR_E2E_VSIX) packageVsix(vsix);
  installExtension({ vsix, extensionsDir, userDataDir });

  const server = await startCodeServer({ folder: workspace, userDataDir, extensionsDir, log: opts.log });
  let browser: BrowserContext | undefined;
  try {
    browser = await chromium.launchPersistentContext(join(root, 'chromium'), {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(60_000);
    // Errors of the workbench and of the webviews (their iframes report here too).
    const consoleLines: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${m.type()} ${m.location().url}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(server.url);
    await page.locator('.monaco-workbench').waitFor();
    const b = browser;
    return {
      root,
      workspace,
      page,
      server,
      extensionErrors: () => consoleLines.filter((l) => l.startsWith('error') && /ivgr/i.test(l)),
      screenshot: async (name) => {
        const file = join(artifactsDir, `${name}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      close: async () => {
        await b.close();
        await server.stop();
        stopWorkers(join(workspace, 'runs'));
        // Kept with the screenshots: the extension host's errors show up here first.
        writeFileSync(join(artifactsDir, 'code-server.log'), server.output());
        writeFileSync(join(artifactsDir, 'browser-console.log'), consoleLines.join('\n') + '\n');
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close();
    await server.stop();
    throw e;
  }
}
