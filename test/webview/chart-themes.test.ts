/**
 * Charts in Dark+, Light+ and High Contrast: with each theme's variables set as VS Code sets them,
 * the charts are redrawn in that theme's colours: tick labels in its foreground (legible against
 * its background), a grid fainter than the labels, series in its chart colours.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { writeFixtureRun } from './harness/fixture';
import { panelSuite, shot, skip } from './harness/suite';
import { contrast, hexRgb, THEMES, type ThemeVars } from './harness/themes';

async function applyTheme(page: Page, t: ThemeVars): Promise<void> {
  // As VS Code does: through the CSSOM (the panel's CSP refuses inline style attributes).
  await page.evaluate((theme) => {
    for (const [k, v] of Object.entries(theme.vars)) document.documentElement.style.setProperty(k, v);
    document.body.className = theme.bodyClass;
  }, t);
  const [r, g, b] = hexRgb(t.vars['--vscode-foreground']!);
  await page.waitForFunction((fg) => (document.querySelector('.charts') as HTMLElement).dataset.fg === fg, `rgba(${r}, ${g}, ${b}, 1)`);
  await page.waitForSelector('.chart[data-chart=reward] canvas');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

interface Pixels {
  /** The most frequent opaque colour left of the plot (the y tick labels). */
  label: number[];
  /** The most opaque a pixel of the foreground's colour is inside the plot (the grid). */
  gridAlpha: number;
  /** Opaque pixels inside the plot per series colour, by hex. */
  series: Record<string, number>;
}

/**
 * Reads the reward chart's canvas. The page function is a string: code compiled for the test
 * (tsx) wraps named inner functions in a helper the page does not have.
 */
async function readPixels(page: Page, seriesHex: string[]): Promise<Pixels> {
  return (await page.evaluate(`(${PIXELS})(${JSON.stringify(seriesHex)})`)) as Pixels;
}

const PIXELS = `function (hexes) {
  const box = document.querySelector('.chart[data-chart=reward]');
  const canvas = box.querySelector('canvas');
  const over = box.querySelector('.u-over');
  const { width, height } = canvas;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const fg = getComputedStyle(document.body).color.match(/\\d+/g).map(Number);
  function near(i, c) { return Math.abs(data[i] - c[0]) + Math.abs(data[i + 1] - c[1]) + Math.abs(data[i + 2] - c[2]) < 24; }
  const rgb = hexes.map((h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]);
  const counts = new Map();
  const series = Object.fromEntries(hexes.map((h) => [h, 0]));
  let gridAlpha = 0;
  const x0 = over.offsetLeft, y0 = over.offsetTop, x1 = x0 + over.offsetWidth, y1 = y0 + over.offsetHeight;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (x < x0 && data[i + 3] === 255) {
        const k = data[i] + ',' + data[i + 1] + ',' + data[i + 2];
        counts.set(k, (counts.get(k) || 0) + 1);
      }
      if (x >= x0 && x < x1 && y >= y0 && y < y1) {
        if (near(i, fg)) gridAlpha = Math.max(gridAlpha, data[i + 3]);
        rgb.forEach((c, j) => { if (data[i + 3] === 255 && near(i, c)) series[hexes[j]]++; });
      }
    }
  }
  const top = [...counts].sort((a, b) => b[1] - a[1])[0];
  return { label: top ? top[0].split(',').map(Number) : [], gridAlpha, series };
}`;

describe('chart themes', { skip }, () => {
  const panel = panelSuite('ivgr-themes-', (root) => writeFixtureRun(root, { steps: 6, prompts: 2, samples: 2, bigImage: false }), {
    ready: (page) => page.waitForSelector('.chart canvas'),
  });

  for (const theme of THEMES) {
    panel.test(`${theme.name}: labels, grid and series take the theme's colours and stay legible`, async ({ page }) => {
      await applyTheme(page, theme);
      const fg = hexRgb(theme.vars['--vscode-foreground']!);
      const bg = hexRgb(theme.vars['--vscode-editor-background']!);
      const grounded = theme.vars['--vscode-charts-blue']!;
      const textual = theme.vars['--vscode-charts-orange']!;
      const px = await readPixels(page, [grounded, textual]);
      assert.deepEqual(px.label, fg, 'tick labels are drawn in the theme foreground');
      assert.ok(contrast(fg, bg) >= 4.5, `labels contrast ${contrast(fg, bg).toFixed(2)} with the background`);
      assert.ok(px.gridAlpha > 0 && px.gridAlpha < 0.3 * 255, `the grid is a faint tint of the foreground (alpha ${px.gridAlpha})`);
      for (const [hex, n] of Object.entries(px.series)) {
        assert.ok(n > 20, `series in the theme colour ${hex} are drawn (${n} px)`);
        // WCAG asks 3:1 of graphics; Light+'s own orange reaches 2.9:1.
        assert.ok(contrast(hexRgb(hex), bg) >= 2.5, `${hex} stands out from the background`);
      }
      const bodyBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bodyBg, `rgb(${bg.join(', ')})`);
      await shot(page, `theme-${theme.bodyClass}`);
    });
  }
});
