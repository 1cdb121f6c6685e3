/**
 * Room to read: the rollout list has question and output columns and can be widened by dragging
 * its edge, search matches are marked in the rows, the question heads a sample's detail without a
 * click, an evaluation sample's detail is scrolled on screen, and a sample without an image keeps
 * no empty image area.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { makeRollout, prompts, writeFixtureRun } from './harness/fixture';
import { openRollout, panelSuite, shot, skip, tab, typeInto, waitTotal } from './harness/suite';

describe('reading space', { skip }, () => {
  const panel = panelSuite('ivgr-reading-', (root) => writeFixtureRun(root, { steps: 6, prompts: 4, samples: 4, bigImage: false }), {
    options: () => ({ width: 1400, height: 640 }),
    ready: (page) => page.waitForSelector('.chart canvas'),
  });

  panel.test('the list shows question and output columns and widens by dragging its edge', async ({ page, fx }) => {
    await tab(page, 'rollouts');
    await waitTotal(page, fx.rollouts.length);
    const head = await page.$$eval('.row.head span', (s) => s.map((e) => e.textContent));
    assert.deepEqual(head.slice(-2), ['question', 'output']);
    const first = page.locator('.list .row[data-index="0"]');
    const id = (await first.getAttribute('data-id'))!;
    const record = fx.rollouts.find((r) => r.id === id)!;
    assert.equal(await first.locator('span:nth-child(8)').textContent(), record.input.replace(/\s+/g, ' ').trim().slice(0, 160));
    const before = (await first.locator('span:nth-child(9)').boundingBox())!.width;
    const handle = (await page.locator('.splitter').boundingBox())!;
    await page.mouse.move(handle.x + 3, handle.y + 200);
    await page.mouse.down();
    await page.mouse.move(handle.x + 303, handle.y + 200, { steps: 4 });
    await page.mouse.up();
    const after = (await first.locator('span:nth-child(9)').boundingBox())!.width;
    assert.ok(after > before + 100, `the output column widened with the list (${before} → ${after} px)`);
    // The width is kept in the panel state, so a reload restores it.
    await page.waitForFunction(() => {
      const s = JSON.parse(sessionStorage.getItem('ivgr-harness-state') ?? 'null') as { listWidth?: number } | null;
      return typeof s?.listWidth === 'number';
    });
    await shot(page, 'reading-wide-list');
  });

  panel.test('search matches are marked in the rows, also past the first characters', async ({ page, fx }) => {
    await typeInto(page, 'filter-text', 'zoom_in');
    await waitTotal(page, fx.rollouts.filter((r) => r.output.includes('zoom_in') || r.input.includes('zoom_in')).length);
    const marks = await page.$$eval('.list .row:not([hidden]) span:nth-child(9) mark', (m) => m.map((e) => e.textContent));
    assert.ok(marks.length > 0 && marks.every((t) => t === 'zoom_in'), `marked matches: ${marks.join()}`);
    await shot(page, 'reading-search-marks');
    await typeInto(page, 'filter-text', '');
  });

  panel.test('the question heads the detail without a click', async ({ page, fx }) => {
    const r = fx.rollouts[0]!;
    await openRollout(page, r.id, '.trace');
    const q = page.locator(`.detail[data-id="${r.id}"] .question`);
    assert.ok(await q.isVisible());
    assert.equal(await q.textContent(), `Question ${r.input}`);
  });

  panel.test('a sample without an image reserves no image area', async ({ page, h }) => {
    const p = prompts(1, false)[0]!;
    const record = { ...makeRollout(200_000, 7, 'textual', p, 0, () => 0.5), image: undefined };
    await h.host.appendLive([record]);
    await openRollout(page, record.id, '.trace');
    await page.waitForSelector('.image-view.no-image');
    const box = (await page.locator('.detail .image-view').boundingBox())!;
    assert.ok(box.height < 60, `the image area is ${box.height} px high`);
    assert.match((await page.locator('.detail .image-view').innerText()).trim(), /^no image for this sample$/);
  });

  panel.test("an evaluation sample's detail is scrolled on screen", async ({ page }) => {
    await tab(page, 'eval');
    await page.click('button.cell[data-checkpoint=step-6][data-mode=grounded]');
    await page.waitForSelector('.sample-list tr.sample');
    await page.click('.sample-list tr.sample >> nth=-1');
    await page.waitForSelector('.tab-body .detail[data-id^="e-step-6-grounded"] .trace');
    await page.waitForTimeout(100);
    const head = (await page.locator('.tab-body .detail[data-id^="e-step-6-grounded"] h2').boundingBox())!;
    assert.ok(head.y >= 0 && head.y + head.height <= 640, `the detail's title is on screen (y ${head.y})`);
    await shot(page, 'reading-eval-detail');
  });
});
