/**
 * What the panel tests share: a suite that writes its fixture into a temporary folder and opens
 * the panel on it before its tests (closing and removing both after), and the page steps many
 * tests take (switching tabs, setting controls, opening a rollout, reading the reward chart).
 */
import { after, before, test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumAvailable, openPanel, type Harness, type PanelOptions } from './panel';

/** The `skip` option of a panel suite: the reason where Chromium or the built panel is missing. */
export const skip = chromiumAvailable() ? false : 'needs /usr/bin/chromium and a built dist/webview.js (npm run build)';

const ARTIFACTS = join('test-artifacts', 'webview');

export interface FixtureState<T> {
  root: string;
  fx: T;
}

export interface PanelState<T> extends FixtureState<T> {
  h: Harness;
  page: Page;
}

export interface Suite<S> {
  /** A node:test test whose body gets the suite's state, set up by its `before` hooks. */
  test(name: string, fn: (s: S) => Promise<void>): void;
}

/** The run and dataset folders a panel opens. */
interface RunDirs {
  runDir: string;
  datasetDir: string;
}

export interface PanelSuiteOptions<T> {
  /** How the panel is opened on the fixture (size, other runs, a held index). */
  options?: (fx: T) => PanelOptions;
  /** Brings the page to where the suite's tests start. */
  ready?: (page: Page, fx: T) => Promise<unknown>;
}

function suiteOf<S>(state: () => S | undefined): Suite<S> {
  return {
    test(name, fn) {
      void test(name, () => {
        const s = state();
        if (!s) throw new Error(`${name}: the suite's setup did not finish`);
        return fn(s);
      });
    },
  };
}

function useFixture<T>(prefix: string, fixture: (root: string) => Promise<T>): () => FixtureState<T> | undefined {
  let root: string | undefined;
  let state: FixtureState<T> | undefined;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), prefix));
    state = { root, fx: await fixture(root) };
  });
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });
  return () => state;
}

/** Registers before/after hooks that write `fixture` into a fresh temporary folder named `prefix…` and remove it. */
export function fixtureSuite<T>(prefix: string, fixture: (root: string) => Promise<T>): Suite<FixtureState<T>> {
  return suiteOf(useFixture(prefix, fixture));
}

/** As `fixtureSuite`, then opens the panel on the fixture's run (closed after the suite). */
export function panelSuite<T extends RunDirs>(
  prefix: string,
  fixture: (root: string) => Promise<T>,
  opts: PanelSuiteOptions<T> = {},
): Suite<PanelState<T>> {
  const written = useFixture(prefix, fixture);
  let h: Harness | undefined;
  let state: PanelState<T> | undefined;
  before(async () => {
    const s = written()!;
    h = await openPanel(s.fx.runDir, s.fx.datasetDir, opts.options?.(s.fx));
    await opts.ready?.(h.page, s.fx);
    state = { ...s, h, page: h.page };
  });
  after(async () => {
    await h?.close();
  });
  return suiteOf(() => state);
}

/** Saves a screenshot as test-artifacts/webview/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

export async function tab(page: Page, id: string): Promise<void> {
  await page.click(`vscode-tab-header[data-tab=${id}]`);
}

/** Sets a vscode-single-select (or any control with a value) and fires its change event. */
export async function setSelect(page: Page, id: string, value: string): Promise<void> {
  await page.$eval(
    `#${id}`,
    (el, v) => {
      (el as HTMLElement & { value: string }).value = v;
      el.dispatchEvent(new Event('change', { bubbles: true }));
    },
    value,
  );
}

export async function typeInto(page: Page, id: string, text: string): Promise<void> {
  await page.locator(`#${id}`).locator('input').fill(text);
}

/** Waits until the rollout list counts `n` rows. */
export async function waitTotal(page: Page, n: number): Promise<void> {
  await page.waitForFunction((want) => (document.querySelector('.browser') as HTMLElement | null)?.dataset.total === String(want), n, {
    timeout: 10_000,
  });
}

/**
 * Opens rollout `id` through the text filter and waits for `inside` in its detail. The count can
 * update before the pooled row is refilled, so only the first row holding that rollout is clicked.
 */
export async function openRollout(page: Page, id: string, inside: string): Promise<void> {
  await tab(page, 'rollouts');
  await typeInto(page, 'filter-text', id);
  await page.click(`.list .row[data-index="0"][data-id="${id}"]`);
  await page.waitForSelector(`.detail[data-id="${id}"] ${inside}`);
}

export async function setSmoothing(page: Page, w: number): Promise<void> {
  await page.$eval(
    '#smoothing',
    (el, v) => {
      (el as HTMLInputElement).value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    w,
  );
}

/** Hovers the reward chart at its left or right edge and reads the legend: step and per-stream value. */
export async function rewardLegend(page: Page, edge: 'first' | 'last'): Promise<Record<string, string>> {
  const box = (await page.locator('.chart[data-chart=reward] .u-over').boundingBox())!;
  // Leave and come back, so the legend is read fresh after a redraw.
  await page.mouse.move(0, 0);
  await page.mouse.move(edge === 'first' ? box.x + 2 : box.x + box.width - 2, box.y + box.height / 2);
  const cells = await page
    .locator('.chart[data-chart=reward] .u-legend .u-series')
    .evaluateAll((rows) =>
      rows.map((r) => [r.querySelector('.u-label')?.textContent ?? '', r.querySelector('.u-value')?.textContent ?? '']),
    );
  return Object.fromEntries(cells);
}
