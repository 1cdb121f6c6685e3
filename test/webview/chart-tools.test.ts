/**
 * The charts tell the run's story: a faint raw line behind each smoothed one, series that cannot
 * apply (grounding on the textual stream, consistency on the grounded one, terms weighted 0)
 * hidden until "all series" is ticked, y ranges fitted to the data (an all-zero series is not
 * drawn on 0–100), steps per second and an ETA in the header, and a chart saved as PNG or CSV.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { HostMessage } from '../../src/core/protocol/webview';
import { makeMetrics, writeFixtureRun } from './harness/fixture';
import { panelSuite, setSmoothing, shot, skip } from './harness/suite';

const legend = (page: Page, chart: string): Promise<string[]> =>
  page.$$eval(`.chart[data-chart=${chart}] .u-legend .u-series .u-label`, (ls) => ls.map((l) => l.textContent ?? '').slice(1));

/** Steps 1–6 where every reward term is recorded for both streams, the terms that cannot apply as 0, and KL 0 throughout. */
function metrics() {
  return Array.from({ length: 6 }, (_, i) => {
    const m = makeMetrics(i + 1);
    return {
      ...m,
      kl: 0,
      terms: {
        grounded: { ...m.terms.grounded, consistency: 0, tool: 0 },
        textual: { ...m.terms.textual, grounding: 0, tool: 0 },
      },
    };
  });
}

describe('chart tools', { skip }, () => {
  const panel = panelSuite(
    'ivgr-chart-tools-',
    async (root) => {
      const fx = await writeFixtureRun(root, { steps: 6, prompts: 2, samples: 2, bigImage: false });
      // The run weighs the tool term 0.
      const file = join(fx.runDir, 'run.json');
      const run = JSON.parse(readFileSync(file, 'utf8')) as { config: Record<string, unknown> };
      run.config.rewards = { accuracy: 1, format: 0.5, grounding: 0.5, consistency: 0.5, tool: 0 };
      writeFileSync(file, JSON.stringify(run));
      return fx;
    },
    {
      ready: async (page) => {
        await page.waitForSelector('.chart canvas');
        const m: HostMessage = { type: 'metrics', records: metrics(), reset: true };
        await page.evaluate((msg) => window.postMessage(msg, '*'), m);
        await page.waitForFunction(() => document.querySelector('.chart[data-chart=kl]')?.getAttribute('data-y-range') === '0,1');
      },
    },
  );

  panel.test('series that cannot apply are hidden until "all series" is ticked', async ({ page }) => {
    assert.deepEqual(await legend(page, 'terms'), ['g:accuracy', 'g:format', 'g:grounding', 't:accuracy', 't:format', 't:consistency']);
    await page.click('#show-all-series');
    await page.waitForFunction(() => document.querySelectorAll('.chart[data-chart=terms] .u-legend .u-series').length === 11);
    assert.deepEqual(await legend(page, 'terms'), [
      'g:accuracy',
      'g:format',
      'g:grounding',
      'g:consistency',
      'g:tool',
      't:accuracy',
      't:format',
      't:grounding',
      't:consistency',
      't:tool',
    ]);
    await page.click('#show-all-series');
    await page.waitForFunction(() => document.querySelectorAll('.chart[data-chart=terms] .u-legend .u-series').length === 7);
  });

  panel.test('y ranges fit the data: an all-zero series is drawn on 0–1, others just around their values', async ({ page }) => {
    assert.equal(await page.getAttribute('.chart[data-chart=kl]', 'data-y-range'), '0,1');
    const [lo, hi] = (await page.getAttribute('.chart[data-chart=tps]', 'data-y-range'))!.split(',').map(Number);
    // Tokens/s runs 903–918 in the fixture.
    assert.ok(lo! > 850 && hi! < 950, `tokens/s drawn on ${lo}–${hi}`);
  });

  panel.test('a faint raw line runs behind the smoothed one', async ({ page }) => {
    await setSmoothing(page, 0.9);
    await page.waitForTimeout(100);
    const faint = await page.$eval('.chart[data-chart=reward]', (box) => {
      const canvas = box.querySelector('canvas')!;
      const over = box.querySelector('.u-over') as HTMLElement;
      const d = canvas.getContext('2d')!.getImageData(over.offsetLeft, over.offsetTop, over.offsetWidth, over.offsetHeight).data;
      let n = 0;
      // The grounded series colour (#3794ff) at the raw line's opacity.
      for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 30 && d[i + 3]! < 110 && d[i + 2]! > 200 && d[i]! < 100) n++;
      return n;
    });
    assert.ok(faint > 30, `${faint} faint pixels of the raw line`);
    await shot(page, 'chart-raw-line');
    await setSmoothing(page, 0.6);
  });

  panel.test('the header shows steps per second and the time left', async ({ page }) => {
    // The fixture's steps are 1 s apart; the run is at step 6 of 20.
    assert.equal(await page.textContent('[data-role=pace]'), '1.00 steps/s · ETA 14 s');
  });

  panel.test('a chart is saved as PNG and its series as CSV', async ({ page, fx }) => {
    await page.click('.chart[data-chart=reward] [data-export=png]');
    await page.waitForFunction(() => document.querySelector('[data-role=export-note]')?.textContent === 'saved fixture-run-reward.png');
    const png = readFileSync(join(fx.runDir, 'exports', 'fixture-run-reward.png'));
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
    await page.click('.chart[data-chart=reward] [data-export=csv]');
    await page.waitForFunction(() => document.querySelector('[data-role=export-note]')?.textContent === 'saved fixture-run-reward.csv');
    const csv = readFileSync(join(fx.runDir, 'exports', 'fixture-run-reward.csv'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv[0], 'step,grounded,textual');
    assert.equal(csv.length, 7);
    const m = metrics()[5]!;
    assert.equal(csv[6], `6,${m.reward.grounded},${m.reward.textual}`);
  });
});
