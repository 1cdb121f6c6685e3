/**
 * Opens the built panel (dist/webview.js) in Debian's Chromium through Playwright, in a plain page
 * served on 127.0.0.1 with the production HTML (CSP + nonce) and the stand-in VS Code API.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { transformSync } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostMessage } from '../../../src/core/protocol/webview';
import { makeNonce, panelHtml } from '../../../src/extension/panel/panel-html';
import type { RunRef } from '../../../src/extension/panel/question-runs';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium';
import { HarnessHost } from './host';

const REPO = resolve(import.meta.dirname, '../../..');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.map': 'application/json',
};

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM) && existsSync(join(REPO, 'dist', 'webview.js'));
}

export interface Harness {
  browser: Browser;
  page: Page;
  host: HarnessHost;
  url: string;
  /** Problems the page reported: uncaught errors, console errors (CSP violations among them), dialogs. */
  problems: string[];
  /** Messages posted to the page so far. */
  sent: HostMessage[];
  /** Lets a held first index build (`holdIndex`) run. */
  releaseIndex(): void;
  close(): Promise<void>;
}

export interface PanelOptions {
  width?: number;
  height?: number;
  /** Further recorded runs the workspace holds (Compare shows those on the same dataset). */
  otherRuns?: RunRef[];
  /** The first index build waits for `releaseIndex()` (the panel answers from the file's tail until then). */
  holdIndex?: boolean;
}

export async function openPanel(runDir: string, datasetDir: string, opts: PanelOptions = {}): Promise<Harness> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'ivgr-panel-cache-'));
  const client = transformSync(readFileSync(join(import.meta.dirname, 'client.ts'), 'utf8'), { loader: 'ts', format: 'iife' }).code;
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (body: string | Buffer, type: string) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (url.pathname === '/') {
      const nonce = makeNonce();
      const html = panelHtml({
        cspSource: origin,
        nonce,
        scriptUri: `${origin}/dist/webview.js`,
        styleUri: `${origin}/dist/webview.css`,
        title: 'iVGR run',
      });
      // The stand-in API must exist before the panel script runs.
      return send(
        html.replace('<script nonce=', `<script nonce="${nonce}" src="${origin}/harness/client.js"></script>\n<script nonce=`),
        'text/html',
      );
    }
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (url.pathname === '/harness/client.js') return send(client, 'text/javascript');
    const base = url.pathname.startsWith('/dist/') ? join(REPO, 'dist') : url.pathname.startsWith('/cache/') ? cacheDir : null;
    if (base) {
      const file = resolve(base, url.pathname.replace(/^\/(dist|cache)\//, ''));
      if (file.startsWith(base + sep) && existsSync(file))
        return send(readFileSync(file), TYPES[extname(file)] ?? 'application/octet-stream');
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const problems: string[] = [];
  const sent: HostMessage[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  let queue: HostMessage[] = [];
  let flushing: Promise<void> | null = null;
  const flush = async () => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      await page
        .evaluate((ms) => {
          for (const m of ms) window.postMessage(m, '*');
        }, batch)
        .catch((e: unknown) => problems.push(`post: ${String(e)}`));
    }
    flushing = null;
  };
  const host = new HarnessHost(
    runDir,
    datasetDir,
    cacheDir,
    `${origin}/cache`,
    (ms) => {
      sent.push(...ms);
      queue.push(...ms);
      flushing ??= flush();
    },
    opts.otherRuns,
  );
  const releaseIndex = opts.holdIndex ? host.holdIndex() : (): void => undefined;
  await page.exposeBinding('__harnessPost', (_src, message: unknown) => host.handle(message));
  await page.goto(origin + '/');
  return {
    browser,
    page,
    host,
    url: origin + '/',
    problems,
    sent,
    releaseIndex,
    async close() {
      await browser.close();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}
