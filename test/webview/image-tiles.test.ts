/**
 * The image view on an 8K image in Chromium: it opens as a thumbnail, and zooming in asks for the
 * pyramid tiles covering the view (never a full-resolution image), drops requests the view moved
 * past, draws the tiles over the thumbnail, follows a pan and lets go of the tiles when fitted again.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { PanelMessage } from '../../src/core/protocol/webview';
import { writeFixtureRun } from './harness/fixture';
import { panelSuite, shot, skip, tab } from './harness/suite';

type GetTile = Extract<PanelMessage, { type: 'getTile' }>;

/** On-screen rectangles of the drawn tiles and whether each has loaded. */
function drawnTiles(page: Page) {
  return page.$$eval('.tiles img.tile', (els) =>
    els.map((e) => {
      const img = e as HTMLImageElement;
      const r = img.getBoundingClientRect();
      return {
        key: img.dataset.key!,
        level: Number(img.dataset.level),
        natural: [img.naturalWidth, img.naturalHeight],
        left: r.left,
        top: r.top,
        right: r.right,
        bottom: r.bottom,
      };
    }),
  );
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('image tiles', { skip }, () => {
  const panel = panelSuite('ivgr-tiles-', (root) => writeFixtureRun(root, { steps: 1, prompts: 2, samples: 1, bigImage: true }), {
    ready: (page) => page.waitForSelector('.chart canvas'),
  });

  panel.test('zooming into an 8K image requests and draws the tiles of the view, not a full-resolution image', async ({ page, h, fx }) => {
    const target = fx.rollouts.find((r) => r.promptId === 'q0')!;
    await tab(page, 'rollouts');
    await page.click(`.list .row[data-id="${target.id}"]`);
    await page.waitForFunction(() => document.querySelector('.img-status')?.textContent === '7680×4320 · preview 1280×720');
    assert.equal(await page.$$eval('.tiles img.tile', (e) => e.length), 0, 'fitted, the thumbnail is enough');

    // Zoom in key by key without yielding, so the coarser levels' requests are still unanswered when the view passes them.
    const statuses = await page.evaluate(() => {
      const vp = document.querySelector<HTMLElement>('.viewport')!;
      const seen: string[] = [];
      for (let i = 0; i < 40 && !seen.at(-1)?.includes('tiles 1:1'); i++) {
        vp.dispatchEvent(new KeyboardEvent('keydown', { key: '+', bubbles: true }));
        const s = document.querySelector('.img-status')!.textContent!;
        if (s !== seen.at(-1)) seen.push(s);
      }
      return seen;
    });
    // The 1:4 level spans less than one key step, so it may be passed over.
    assert.equal(statuses[0], '7680×4320 · preview 1280×720');
    assert.deepEqual(statuses.slice(-2), ['7680×4320 · preview 1280×720 · tiles 1:2', '7680×4320 · preview 1280×720 · tiles 1:1']);

    const tileRequests = () => h.host.received.filter((m): m is GetTile => m.type === 'getTile');
    await waitFor(
      () => tileRequests().some((m) => m.level === 0) && h.host.received.some((m) => m.type === 'dropTiles'),
      'level-0 tile requests and a drop',
    );
    const coarse = tileRequests().filter((m) => m.level > 0);
    const fine = tileRequests().filter((m) => m.level === 0);
    assert.ok(coarse.length > 0, 'the coarser levels were asked for on the way');
    const dropped = new Set(h.host.received.flatMap((m) => (m.type === 'dropTiles' ? m.requestIds : [])));
    assert.deepEqual(
      coarse.filter((m) => !dropped.has(m.requestId)),
      [],
      'every request of a level passed by is dropped',
    );

    await page.waitForFunction((n) => {
      const tiles = [...document.querySelectorAll<HTMLImageElement>('.tiles img.tile')];
      return tiles.length === n && tiles.every((t) => t.complete && t.naturalWidth > 0);
    }, fine.length);
    const tiles = await drawnTiles(page);
    assert.deepEqual([...new Set(tiles.map((t) => t.level))], [0], 'answers for dropped requests are not drawn');
    assert.ok(
      tiles.every((t) => t.natural[0]! <= 512 && t.natural[1]! <= 512),
      `tiles are at most 512 px: ${JSON.stringify(tiles.map((t) => t.natural))}`,
    );
    // Drawn where they belong: together they cover the whole viewport.
    const vp = (await page.locator('.viewport').boundingBox())!;
    for (let i = 0; i <= 4; i++)
      for (let j = 0; j <= 4; j++) {
        const x = vp.x + 1 + ((vp.width - 2) * i) / 4;
        const y = vp.y + 1 + ((vp.height - 2) * j) / 4;
        assert.ok(
          tiles.some((t) => t.left <= x && x <= t.right && t.top <= y && y <= t.bottom),
          `viewport point (${x}, ${y}) is covered by a tile`,
        );
      }
    // Nothing but the 1280 px thumbnail and the 240 px zoom insets was asked for as a whole image.
    const images = h.host.received.filter((m) => m.type === 'getImage');
    assert.ok(
      images.every((m) => m.maxSide <= 1280 && (m.region === undefined || m.maxSide <= 240)),
      JSON.stringify(images),
    );
    assert.deepEqual(h.problems, []);
    await shot(page, '30-image-tiles');
  });

  panel.test('panning asks for the tiles that come into view and removes those that leave it', async ({ page, h }) => {
    const before = h.host.received.filter((m) => m.type === 'getTile').length;
    const first = new Set((await drawnTiles(page)).map((t) => t.key));
    const vp = (await page.locator('.viewport').boundingBox())!;
    await page.mouse.move(vp.x + vp.width - 10, vp.y + vp.height / 2);
    await page.mouse.down();
    await page.mouse.move(vp.x + vp.width - 10 - 1600, vp.y + vp.height / 2, { steps: 8 });
    await page.mouse.up();
    await waitFor(() => h.host.received.filter((m) => m.type === 'getTile').length > before, 'tiles for the new view');
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('.tiles img.tile')].some(
        (t) =>
          t.complete &&
          t.naturalWidth > 0 &&
          t.getBoundingClientRect().right > document.querySelector('.viewport')!.getBoundingClientRect().right - 5,
      ),
    );
    const now = await drawnTiles(page);
    assert.ok(
      now.some((t) => !first.has(t.key)),
      'new tiles are drawn',
    );
    assert.ok(
      now.every((t) => t.right > vp.x && t.left < vp.x + vp.width && t.bottom > vp.y && t.top < vp.y + vp.height),
      'no tile is kept off screen',
    );

    await page.keyboard.press('0');
    await page.waitForFunction(() => document.querySelector('.img-status')?.textContent === '7680×4320 · preview 1280×720');
    assert.equal(await page.$$eval('.tiles img.tile', (e) => e.length), 0, 'fitted again, the tiles are let go');
  });
});
