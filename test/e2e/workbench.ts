/** Playwright moves on the VS Code workbench as code-server serves it: palette, status bar, views, webviews. */
import type { FrameLocator, Locator, Page } from 'playwright-core';

/** Polls `probe` until it returns a value other than undefined; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Opens the command palette (F1: the browser keeps Ctrl+Shift+P for itself) and types `text` after the `>`. */
export async function openPalette(page: Page, text: string): Promise<Locator> {
  const widget = page.locator('.quick-input-widget');
  await page.locator('.monaco-workbench').click({ position: { x: 5, y: 5 }, force: true });
  await page.keyboard.press('F1');
  const input = widget.locator('input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${text}`);
  return widget;
}

/** Command titles the palette lists for `query`. */
export async function paletteCommands(page: Page, query: string): Promise<string[]> {
  const widget = await openPalette(page, query);
  const rows = widget.locator('.quick-input-list .monaco-list-row');
  await rows.first().waitFor({ state: 'visible' });
  const labels = await rows.locator('.label-name').allInnerTexts();
  await page.keyboard.press('Escape');
  return labels.map((l) => l.trim());
}

/**
 * Runs a command from the palette by its exact title, e.g. "iVGR: Start Training Run". The palette
 * lists a command only once its extension's contributions and `when` context keys are in, so it
 * retries until `timeoutMs`.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const widget = await openPalette(page, title);
    const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    const row = widget.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: exact }) }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 3_000 });
      await row.click();
      return;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) throw new Error(`the palette never listed "${title}" within ${timeoutMs} ms`, { cause: e });
      await page.waitForTimeout(1_000);
    }
  }
}

/** Picks an entry of an open quick pick (a command's follow-up question) by its visible label. */
export async function pickQuickItem(page: Page, label: string | RegExp): Promise<void> {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
}

export function statusBar(page: Page): Locator {
  return page.locator('.part.statusbar');
}

/** A side-bar view's body by its pane title, e.g. "Runs". */
export function view(page: Page, title: string): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: title }) });
}

/**
 * The content of the webview panel whose tab is titled `tabTitle`: VS Code hosts a webview in an
 * outer iframe (class `webview`) that loads the extension's page into an inner `#active-frame`.
 */
export async function webviewContent(page: Page, tabTitle: string | RegExp): Promise<FrameLocator> {
  const tab = page.locator('.tabs-container .tab', { hasText: tabTitle }).first();
  await tab.waitFor({ state: 'visible' });
  await tab.click();
  // Only the active editor's webview is visible; hidden ones stay in the DOM.
  const outer = page.locator('iframe.webview.ready:visible');
  await outer.first().waitFor({ state: 'visible' });
  return outer.first().contentFrame().frameLocator('iframe#active-frame');
}

/** Notification toasts currently shown, as text. */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}
