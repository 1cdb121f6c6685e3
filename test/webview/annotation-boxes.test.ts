/**
 * Corrected boxes in the annotation form, driven with the mouse in Chromium: a drawn box shows
 * resize handles; dragging a corner or an edge resizes it, dragging its inside moves it, and what
 * is saved is the box as last shown.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Box } from '../../src/core/types';
import { savedAnnotations, writeFixtureRun } from './harness/fixture';
import { panelSuite, shot, skip, tab } from './harness/suite';

/** The corrected boxes the form lists ("1 corrected box: [x1, y1, x2, y2]"). */
async function shownBoxes(page: Page): Promise<Box[]> {
  const text = await page.locator('[data-role=corrected]').innerText();
  return [...text.matchAll(/\[(-?\d+), (-?\d+), (-?\d+), (-?\d+)\]/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]);
}

/** Screen centre of a resize handle of the selected corrected box. */
async function handleAt(page: Page, name: string): Promise<{ x: number; y: number }> {
  const r = (await page.locator(`.overlay rect.handle.${name}`).boundingBox())!;
  return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
}

async function drag(page: Page, from: { x: number; y: number }, dx: number, dy: number): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + dx, from.y + dy, { steps: 5 });
  await page.mouse.up();
}

describe('corrected boxes', { skip }, () => {
  // Small images only, so one screen pixel is about one image pixel.
  const panel = panelSuite('ivgr-boxes-', (root) => writeFixtureRun(root, { steps: 2, prompts: 2, samples: 1, bigImage: false }), {
    ready: async (page) => {
      await tab(page, 'rollouts');
      await page.waitForSelector('.list .row[data-index="0"]:not(.loading)');
      await page.click('.list .row[data-index="0"]');
      await page.waitForSelector('.detail .viewport');
      await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('.stage img')?.naturalWidth ?? 0) > 0);
    },
  });

  panel.test(
    'a drawn box gets handles; corners and edges resize it, its inside moves it; the saved box is the one shown',
    async ({ page, h, fx }) => {
      await page.click('#draw-box');
      // Measured after the click: clicking the button may scroll the detail pane.
      const img = (await page.locator('.stage img').boundingBox())!;
      await drag(page, { x: img.x + img.width * 0.25, y: img.y + img.height * 0.25 }, 80, 60);
      await page.click('#draw-box');
      assert.equal(await page.locator('.overlay rect.handle').count(), 8, 'eight handles on the new box');
      const [drawn] = await shownBoxes(page);
      assert.ok(drawn, 'one corrected box');
      const scale = await page.evaluate(() => {
        const m = /scale\(([\d.]+)\)/.exec((document.querySelector('.stage') as HTMLElement).style.transform);
        return m ? Number(m[1]) : 1;
      });
      const px = (screen: number) => screen / scale;

      // The south-east corner: right and bottom edges follow the mouse, the others stay.
      await drag(page, await handleAt(page, 'se'), 40, 30);
      const [grown] = await shownBoxes(page);
      assert.deepEqual([grown![0], grown![1]], [drawn[0], drawn[1]]);
      assert.ok(
        Math.abs(grown![2] - (drawn[2] + px(40))) <= 2 && Math.abs(grown![3] - (drawn[3] + px(30))) <= 2,
        `se drag: ${drawn} -> ${grown}`,
      );

      // The west edge handle moves the left edge only.
      await drag(page, await handleAt(page, 'w'), -20, 25);
      const [wider] = await shownBoxes(page);
      assert.deepEqual([wider![1], wider![2], wider![3]], [grown![1], grown![2], grown![3]]);
      assert.ok(Math.abs(wider![0] - (grown![0] - px(20))) <= 2, `w drag: ${grown} -> ${wider}`);

      // Dragging inside the box moves it, size unchanged.
      const inside = (await page.locator('.overlay g.box.corrected rect').first().boundingBox())!;
      await drag(page, { x: inside.x + inside.width / 2, y: inside.y + inside.height / 2 }, 30, -10);
      const [moved] = await shownBoxes(page);
      assert.equal(moved![2] - moved![0], wider![2] - wider![0]);
      assert.equal(moved![3] - moved![1], wider![3] - wider![1]);
      assert.ok(moved![0] > wider![0] && moved![1] < wider![1], `move: ${wider} -> ${moved}`);
      await shot(page, '20-corrected-box-resized');

      await page.locator('#tag-wrong-region').click();
      await page.click('#save-annotation');
      await page.waitForFunction(() => document.querySelector('[data-role=annotation-state]')?.textContent?.startsWith('annotated'));
      const saved = savedAnnotations(fx.runDir).at(-1)!;
      assert.deepEqual(saved.correctedBoxes, [moved], 'the record holds the resized, moved box');
      assert.deepEqual(h.problems, []);
    },
  );

  panel.test('handles stay the same size on screen when zoomed, and follow the box', async ({ page }) => {
    const before = (await page.locator('.overlay rect.handle.nw').boundingBox())!;
    await page.locator('.viewport').focus();
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    const after = (await page.locator('.overlay rect.handle.nw').boundingBox())!;
    assert.ok(Math.abs(after.width - before.width) < 1.5, `handle width ${before.width} -> ${after.width}`);
    const corner = (await page.locator('.overlay g.box.corrected rect').first().boundingBox())!;
    assert.ok(
      Math.abs(after.x + after.width / 2 - corner.x) < 2 && Math.abs(after.y + after.height / 2 - corner.y) < 2,
      'the nw handle sits on the corner',
    );
    await page.keyboard.press('0');
  });
});
