/**
 * Box overlays a reader can use at any zoom: labels inside the image and apart from each other
 * (boxes at the image's corner and on top of each other included), outlines the same width on
 * screen when zoomed, one wheel notch a moderate step, and a reset back to the whole image.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { makeRollout, prompts, writeFixtureRun } from './harness/fixture';
import { openRollout, panelSuite, shot, skip } from './harness/suite';

const scale = (page: Page): Promise<number> => page.$eval('.detail .stage', (s) => new DOMMatrix(getComputedStyle(s).transform).a);

describe('image overlays', { skip }, () => {
  const panel = panelSuite('ivgr-overlays-', (root) => writeFixtureRun(root, { steps: 2, prompts: 2, samples: 2, bigImage: false }), {
    ready: (page) => page.waitForSelector('.chart canvas'),
  });

  panel.test('labels stay inside the image and apart, even for boxes at its corner and on each other', async ({ page, h }) => {
    const p = prompts(1, false)[0]!;
    const record = {
      ...makeRollout(300_000, 3, 'grounded', p, 0, () => 0.5),
      boxes: [
        [0, 0, 60, 40],
        [4, 4, 64, 44],
        [p.width - 50, p.height - 30, p.width, p.height],
        [p.width - 52, p.height - 32, p.width - 2, p.height - 2],
      ] as [number, number, number, number][],
    };
    await h.host.appendLive([record]);
    await openRollout(page, record.id, '.overlay g.box.predicted');
    await page.waitForSelector('.detail .stage img[src]');
    const rects = await page.$$eval('.detail .overlay text', (ts) =>
      ts.map((t) => {
        const r = t.getBoundingClientRect();
        return { x: r.x, y: r.y, right: r.right, bottom: r.bottom, text: t.textContent };
      }),
    );
    const img = (await page.locator('.detail .stage img').boundingBox())!;
    assert.ok(rects.length >= 5, `${rects.length} labels`);
    for (const r of rects) {
      assert.ok(
        r.x >= img.x - 1 && r.y >= img.y - 1 && r.right <= img.x + img.width + 1 && r.bottom <= img.y + img.height + 1,
        `"${r.text}" lies inside the image`,
      );
    }
    for (let i = 0; i < rects.length; i++)
      for (let j = i + 1; j < rects.length; j++) {
        const a = rects[i]!;
        const b = rects[j]!;
        const apart = a.right <= b.x + 1 || b.right <= a.x + 1 || a.bottom <= b.y + 1 || b.bottom <= a.y + 1;
        assert.ok(apart, `"${a.text}" and "${b.text}" do not overlap`);
      }
    await shot(page, 'overlay-labels');
  });

  panel.test('one wheel notch zooms a moderate step, outlines keep their screen width, Reset fits again', async ({ page }) => {
    const fitted = await scale(page);
    const vp = (await page.locator('.detail .viewport').boundingBox())!;
    await page.mouse.move(vp.x + vp.width / 2, vp.y + vp.height / 2);
    // A large notch (some systems send 250 px or more per notch) still zooms by at most 1.2.
    await page.mouse.wheel(0, -500);
    await page.waitForFunction((s) => new DOMMatrix(getComputedStyle(document.querySelector('.detail .stage')!).transform).a !== s, fitted);
    const one = (await scale(page)) / fitted;
    assert.ok(one > 1.05 && one <= 1.2 + 1e-6, `one notch zoomed ×${one.toFixed(3)}`);
    for (let i = 0; i < 20; i++) await page.mouse.wheel(0, -100);
    await page.waitForTimeout(100);
    const zoomed = await scale(page);
    assert.ok(zoomed > fitted * 8, `zoomed in to ×${(zoomed / fitted).toFixed(1)}`);
    const stroke = await page.$eval('.detail .overlay g.box.predicted rect', (r) => parseFloat(getComputedStyle(r).strokeWidth));
    assert.ok(Math.abs(stroke * zoomed - 2) < 0.25, `an outline is ${(stroke * zoomed).toFixed(2)} screen px wide when zoomed`);
    const label = await page.$eval('.detail .overlay text', (t) => t.getBoundingClientRect().height);
    assert.ok(label < 24, `a label is ${label.toFixed(1)} px high when zoomed`);
    await shot(page, 'overlay-zoomed');
    await page.click('#image-reset');
    assert.ok(Math.abs((await scale(page)) - fitted) < 1e-6, 'Reset shows the whole image again');
  });
});
