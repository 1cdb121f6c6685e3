/**
 * The run panel in Chromium, driven by Playwright against the plain-page harness: charts, filters,
 * trace ⇄ image hover linking, annotation saved and restored after reload, evaluation drill-down,
 * compare, live updates, and hostile model text that must never execute.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { makeRollout, prompts, savedAnnotations, writeFixtureRun } from './harness/fixture';
import { panelSuite, setSelect, shot, skip, tab, typeInto, waitTotal } from './harness/suite';

describe('run panel', { skip }, () => {
  const panel = panelSuite('ivgr-panel-', (root) => writeFixtureRun(root, { steps: 6, prompts: 4, samples: 4, bigImage: true }), {
    ready: (page) => page.waitForSelector('.chart canvas'),
  });

  panel.test('charts draw every metric with a smoothing control, in theme colours', async ({ page }) => {
    // Charts with no values in the run (the pretraining ones, for an RL run) are not drawn.
    const charts = await page.$$eval('.chart:not([hidden])', (els) => els.map((e) => (e as HTMLElement).dataset.chart));
    assert.deepEqual(charts, ['reward', 'terms', 'accuracy', 'kl', 'clip', 'length', 'tps']);
    // Hovering a chart shows the values of that step in its legend.
    const plot = page.locator('.chart[data-chart=reward] .u-over');
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const legend = await page.locator('.chart[data-chart=reward] .u-legend').innerText();
    assert.match(legend, /step\s*6/);
    await shot(page, '01-charts');
  });

  panel.test('filters narrow the list to what the run holds', async ({ page, fx }) => {
    await tab(page, 'rollouts');
    await waitTotal(page, fx.rollouts.length);
    await setSelect(page, 'filter-stream', 'textual');
    await waitTotal(page, fx.rollouts.filter((r) => r.stream === 'textual').length);
    const streams = await page.$$eval('.list .row:not([hidden])', (rows) => [
      ...new Set(rows.map((r) => (r as HTMLElement).dataset.stream)),
    ]);
    assert.deepEqual(streams, ['textual']);
    await setSelect(page, 'filter-correct', 'true');
    await waitTotal(page, fx.rollouts.filter((r) => r.stream === 'textual' && r.correct).length);
    await typeInto(page, 'filter-stepMin', '4');
    await waitTotal(page, fx.rollouts.filter((r) => r.stream === 'textual' && r.correct && r.step >= 4).length);
    await typeInto(page, 'filter-stepMin', 'four');
    assert.equal(
      await page.$eval('#filter-stepMin', (el) => el.classList.contains('invalid')),
      true,
      'a non-number is flagged, not applied',
    );
    await typeInto(page, 'filter-stepMin', '');
    await setSelect(page, 'filter-stream', '');
    await setSelect(page, 'filter-correct', '');
    await typeInto(page, 'filter-rewardMin', '1.5');
    await waitTotal(page, fx.rollouts.filter((r) => r.score >= 1.5).length);
    await typeInto(page, 'filter-rewardMin', '');
    await typeInto(page, 'filter-text', 'zoom_in');
    await waitTotal(page, fx.rollouts.filter((r) => r.output.includes('zoom_in')).length);
    await shot(page, '02-filtered');
    await typeInto(page, 'filter-text', '');
    await setSelect(page, 'filter-hasBoxes', 'false');
    await waitTotal(page, fx.rollouts.filter((r) => r.boxes.length === 0).length);
    await setSelect(page, 'filter-hasBoxes', '');
    await setSelect(page, 'sort', 'score:desc');
    await waitTotal(page, fx.rollouts.length);
    // The total does not change with the sort, so wait for the top row itself.
    const best = Math.max(...fx.rollouts.map((r) => r.score)).toFixed(2);
    await page.waitForFunction(
      (want) =>
        Number(document.querySelector('.list .row[data-index="0"]:not(.loading) span:nth-child(4)')?.textContent).toFixed(2) === want,
      best,
    );
    await setSelect(page, 'sort', 'step:desc');
  });

  panel.test('hovering a box in the trace highlights it on the image, and the reverse', async ({ page, fx }) => {
    const target = fx.rollouts.find((r) => r.stream === 'grounded' && r.output.includes('zoom_in') && r.promptId === 'q0')!;
    await typeInto(page, 'filter-text', target.id);
    await waitTotal(page, 1);
    // The count can update before the pooled row is refilled; click only the filtered rollout.
    await page.click(`.list .row[data-index="0"][data-id="${target.id}"]`);
    await page.waitForSelector(`.detail[data-id="${target.id}"] .seg.box`);
    await page.waitForSelector('.overlay g.box.predicted');
    await page.hover('.seg.box[data-key=p0]');
    await page.waitForSelector('.overlay g.box.predicted.hot[data-key=p0]');
    const tip = await page.locator('.image-view .tooltip').innerText();
    assert.match(tip, /IoU 0\.\d\d with evidence #1/);
    await page.mouse.move(0, 0);
    await page.waitForSelector('.seg.box.hot', { state: 'detached' });
    await page.waitForFunction(() => document.querySelector('.img-status')?.textContent?.includes('preview'));
    // SVG boxes live in a scaled stage: point the mouse at the box's on-screen centre.
    const r = (await page.locator('.overlay g.box.predicted[data-key=p0] rect').boundingBox())!;
    await page.mouse.move(r.x + r.width / 2, r.y + r.height / 2);
    await page.waitForSelector('.seg.box.hot[data-key=p0]');
    // The zoom call is linked too, and its crop is shown as an inset.
    await page.hover('.seg.tool[data-key=t0]');
    await page.waitForSelector('.overlay g.box.zoom.hot[data-key=t0]');
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('.inset img')?.naturalWidth ?? 0) > 0);
    // The 8K image opened as a preview, not at full size.
    assert.match(await page.locator('.img-status').innerText(), /7680×4320 · preview 1280×720/);
    await shot(page, '03-trace-image-linked');
  });

  panel.test('an annotation is sent, saved as a record, shown in filters, and restored after reload', async ({ page, h, fx }) => {
    const id = await page.$eval('.detail', (e) => (e as HTMLElement).dataset.id!);
    await page.locator('#tag-wrong-region').click();
    await page.locator('#annotation-note').locator('textarea').fill('looks at the yellow sun instead of the sign');
    await page.click('#draw-box');
    const vp = (await page.locator('.viewport').boundingBox())!;
    await page.mouse.move(vp.x + 40, vp.y + 40);
    await page.mouse.down();
    await page.mouse.move(vp.x + 120, vp.y + 100, { steps: 4 });
    await page.mouse.up();
    await page.click('#draw-box');
    assert.match(await page.locator('[data-role=corrected]').innerText(), /1 corrected box/);
    // Clicking the shown rollout again re-sends it: the unsaved tick, note and box stay.
    const head = (await page.$('.detail-head h2'))!;
    await page.click(`.list .row[data-index="0"][data-id="${id}"]`);
    await head.waitForElementState('hidden');
    assert.equal(
      await page.$eval('#annotation-note', (e) => (e as HTMLElement & { value: string }).value),
      'looks at the yellow sun instead of the sign',
    );
    assert.equal(await page.$eval('#tag-wrong-region', (e) => (e as HTMLElement & { checked: boolean }).checked), true);
    assert.match(await page.locator('[data-role=corrected]').innerText(), /1 corrected box/);
    await page.click('#save-annotation');
    await page.waitForFunction(() => document.querySelector('[data-role=annotation-state]')?.textContent?.startsWith('annotated'));
    const sent = h.host.received.filter((m) => m.type === 'annotate');
    assert.equal(sent.length, 1);
    const rec = savedAnnotations(fx.runDir).at(-1)!;
    assert.deepEqual(rec.target, { kind: 'rollout', id });
    assert.deepEqual(rec.tags, ['wrong-region']);
    assert.equal(rec.note, 'looks at the yellow sun instead of the sign');
    assert.equal(rec.correctedBoxes.length, 1);
    const [x1, y1, x2, y2] = rec.correctedBoxes[0]!;
    assert.ok(x2 > x1 && y2 > y1 && x2 <= 7680 && y2 <= 4320, `corrected box within the image: ${rec.correctedBoxes[0]}`);
    await shot(page, '04-annotated');

    await page.reload();
    await page.waitForSelector(`.detail[data-id="${id}"]`);
    assert.equal(
      await page.$eval('vscode-tabs', (t) => (t as HTMLElement & { selectedIndex: number }).selectedIndex),
      1,
      'the rollouts tab is open again',
    );
    await page.waitForFunction(
      () => (document.querySelector('#tag-wrong-region') as (HTMLElement & { checked: boolean }) | null)?.checked === true,
    );
    assert.equal(
      await page.$eval('#annotation-note', (e) => (e as HTMLElement & { value: string }).value),
      'looks at the yellow sun instead of the sign',
    );
    assert.match(await page.locator('.overlay').innerHTML(), /corrected/);
    // The search filter was restored too; clear it and filter by the tag instead.
    assert.equal(await page.$eval('#filter-text', (e) => (e as HTMLElement & { value: string }).value), id);
    await typeInto(page, 'filter-text', '');
    await page.locator('#filter-tag-wrong-region').click();
    await waitTotal(page, 1);
    await page.waitForSelector(`.list .row[data-index="0"][data-id="${id}"]`);
    assert.equal(await page.$eval('.list .row[data-index="0"] span:nth-child(7)', (e) => e.textContent), 'wrong-region');
    await shot(page, '05-restored-after-reload');

    // Undo writes a new record (append-only): the annotation is withdrawn, the tag filter empties.
    await page.click('#undo-annotation');
    await waitTotal(page, 0);
    const all = savedAnnotations(fx.runDir);
    assert.equal(all.length, 2);
    assert.equal(all[1]!.deleted, true);
    await page.locator('#filter-tag-wrong-region').click();
    await waitTotal(page, fx.rollouts.length);
  });

  panel.test('compare shows both streams of a question and its evaluation across checkpoints', async ({ page }) => {
    await page.click('#compare-button');
    await page.waitForSelector('.group.grounded .card');
    const g = await page.$$eval('.group.grounded .card', (c) => c.length);
    const t = await page.$$eval('.group.textual .card', (c) => c.length);
    assert.equal(g, 4);
    assert.equal(t, 4);
    assert.equal(await page.$$eval('.compare-evals tbody tr', (r) => r.length), 2);
    await shot(page, '06-compare');
  });

  panel.test('evaluation table drills down to samples and opens one', async ({ page, fx }) => {
    await tab(page, 'eval');
    await page.click('button.cell[data-checkpoint=step-6][data-mode=grounded]');
    await page.waitForSelector('.sample-list tr.sample');
    assert.equal(
      await page.$$eval('.sample-list tr.sample', (r) => r.length),
      fx.evals.filter((e) => e.checkpoint === 'step-6' && e.mode === 'grounded').length,
    );
    await page.click('.sample-list tr.sample >> nth=1');
    await page.waitForSelector('.tab-body .detail[data-id^="e-step-6-grounded"] .trace');
    await page.waitForSelector('.overlay g.box.evidence');
    await shot(page, '07-eval-drilldown');
  });

  panel.test('model text with script payloads is shown as text and never runs', async ({ page, h, fx }) => {
    // The eval sample just opened carries an <img onerror> payload in its output.
    assert.match(await page.locator('.tab-body .detail .trace').last().innerText(), /<img src=x onerror=/);
    await tab(page, 'rollouts');
    await typeInto(page, 'filter-text', '__pwned');
    const n = fx.rollouts.filter((r) => r.output.includes('__pwned') || r.input.includes('__pwned')).length;
    assert.ok(n > 0);
    await waitTotal(page, n);
    for (let i = 0; i < Math.min(n, 5); i++) {
      await page.click(`.list .row[data-index="${i}"]`);
      await page.waitForFunction((k) => document.querySelector('.list .row.selected')?.getAttribute('data-index') === String(k), i);
      await page.waitForSelector('.detail .trace');
    }
    const payloadText = await page.locator('.detail .trace').innerText();
    assert.match(payloadText, /__pwned/);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.$$eval('.trace script, .trace img, .trace iframe, .trace a, .trace svg', (e) => e.length), 0);
    assert.deepEqual(h.problems, [], 'no dialogs, page errors or CSP violations');
    await shot(page, '08-xss-as-text');
    await typeInto(page, 'filter-text', '');
  });

  panel.test('live rollouts update the counter and the list', async ({ page, h, fx }) => {
    const before = fx.rollouts.length;
    const rand = () => 0.5;
    const p = prompts(4, true)[1]!;
    await h.host.appendLive(
      Array.from({ length: 40 }, (_, i) => makeRollout(100_000 + i, 7, i % 2 ? 'textual' : 'grounded', p, i % 4, rand)),
    );
    await page.waitForFunction((want) => document.body.dataset.liveCount === String(want), before + 40);
    await waitTotal(page, before + 40);
    // Newest step on top, once the refreshed first page is drawn.
    await page.waitForFunction(
      () => document.querySelector('.list .row[data-index="0"]:not(.loading) span:nth-child(1)')?.textContent === '7',
    );
  });

  panel.test('both sides reject messages that do not match the protocol', async ({ page, h }) => {
    await page.evaluate(() => window.postMessage({ type: 'rolloutsPage', requestId: 'x', total: 1, offset: 0, rows: [] }, '*'));
    await page.waitForFunction(() => document.querySelector('.errors')?.textContent?.includes('invalid at requestId'));
    await page.evaluate(() =>
      (window as unknown as { __harnessPost(m: unknown): Promise<void> }).__harnessPost({
        type: 'getImage',
        requestId: 1,
        path: 'a.png',
        maxSide: -5,
      }),
    );
    assert.match(h.host.invalid.at(-1) ?? '', /panel message "getImage" invalid at maxSide/);
    await page.evaluate(() => document.querySelector('.errors')?.replaceChildren());
  });

  panel.test('the list is driven by the keyboard', async ({ page }) => {
    await tab(page, 'rollouts');
    await page.waitForSelector('.list .row[data-index="2"]:not(.loading)');
    await page.click('.list .row[data-index="0"]');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    // The row may be refilled as the list follows the selection: read its id once it holds one.
    const id = await (
      await page.waitForFunction(() => document.querySelector<HTMLElement>('.list .row.selected[data-index="2"]')?.dataset.id || null)
    ).jsonValue();
    await page.waitForSelector(`.detail[data-id="${id}"]`);
    await page.keyboard.press('End');
    await page.waitForFunction(() => {
      const last = Number((document.querySelector('.browser') as HTMLElement).dataset.total) - 1;
      return document.querySelector('.list .row.selected')?.getAttribute('data-index') === String(last);
    });
  });
});
