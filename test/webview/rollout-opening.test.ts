/** Opening a run before its rollout index is built: the newest rows show at once with a counting total, then the exact one, keeping scroll and selection. */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFixtureRun, writeManyRollouts } from './harness/fixture';
import { panelSuite, skip, tab } from './harness/suite';

const N = 3000;
const PER_STEP = 64;

describe('opening a large run', { skip }, () => {
  const panel = panelSuite(
    'ivgr-opening-',
    async (root) => {
      const fx = await writeFixtureRun(root, { steps: 2, prompts: 4, samples: 2, bigImage: false });
      await writeManyRollouts(join(fx.runDir, 'events', 'rollouts.jsonl'), N, PER_STEP);
      return fx;
    },
    { options: () => ({ holdIndex: true }) },
  );

  panel.test('rows and a counting total show before the index is done, then the exact total in the same place', async ({ page, h }) => {
    await tab(page, 'rollouts');
    await page.waitForSelector('.list .row:not(.loading):not([hidden])');
    const browser = page.locator('.browser');
    assert.equal(await browser.getAttribute('data-counting'), 'true');
    assert.equal(await browser.getAttribute('data-total'), null, 'no exact total yet');
    assert.match((await page.textContent('[data-role=summary]')) ?? '', /^counting… rollouts/);
    const lastStep = String(Math.floor((N - 1) / PER_STEP) + 1);
    assert.equal(await page.textContent('.list .row:not([hidden]) span'), lastStep, 'the newest step comes first');
    assert.equal(h.host.service.indexed, false);

    await page.$eval('.list', (el) => (el.scrollTop = 24 * 40));
    await page.waitForSelector('.list .row[data-index="45"]:not(.loading)');
    await page.click('.list .row[data-index="45"]');
    const selected = await page.getAttribute('.list .row.selected', 'data-id');
    assert.ok(selected);

    h.releaseIndex();
    await page.waitForFunction((want) => (document.querySelector('.browser') as HTMLElement).dataset.total === String(want), N, {
      timeout: 10_000,
    });
    assert.equal(await browser.getAttribute('data-counting'), null);
    assert.equal((await page.textContent('[data-role=summary]'))?.trim(), `${N.toLocaleString('en-US')} rollouts`);
    await page.waitForSelector('.list .row[data-index="45"]:not(.loading)');
    assert.equal(await page.$eval('.list', (el) => el.scrollTop), 24 * 40, 'the scroll position is kept');
    assert.equal(await page.getAttribute('.list .row.selected', 'data-id'), selected, 'the selection is kept');
    assert.equal(await page.getAttribute('.list .row[data-index="45"]', 'data-id'), selected, 'the indexed answer has the same row there');
    assert.deepEqual(h.problems, []);
  });
});
