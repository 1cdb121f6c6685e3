/** Playwright moves on the VS Code workbench as code-server serves it: palette, status bar, views, webviews. */
import type { FrameLocator, Locator, Page } from 'playwright-core';

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

/** Runs a command from the palette by its exact title, e.g. "iVGR: Start Training Run". */
export async function runCommand(page: Page, title: string): Promise<void> {
  const widget = await openPalette(page, title);
  const row = widget.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: title }) }).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
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
