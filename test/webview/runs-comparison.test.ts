/**
 * The Runs tab compares this run with others of the workspace in the panel: every chart overlaid
 * with a legend by run, the config fields that differ, and the evaluation tables side by side per
 * checkpoint and mode. The Compare Runs command opens it on the runs it chose.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostMessage } from '../../src/core/protocol/webview';
import { writeFixtureRun } from './harness/fixture';
import { panelSuite, shot, skip, tab } from './harness/suite';

describe('runs comparison', { skip }, () => {
  const panel = panelSuite(
    'ivgr-runs-compare-',
    async (root) => {
      const a = await writeFixtureRun(root, { steps: 6, prompts: 2, samples: 2, bigImage: false });
      const b = await writeFixtureRun(root, {
        id: 'run-b',
        name: 'run B',
        steps: 4,
        prompts: 2,
        samples: 2,
        dataset: a.datasetDir,
        seed: 7,
      });
      const file = join(b.runDir, 'run.json');
      const run = JSON.parse(readFileSync(file, 'utf8')) as { config: Record<string, unknown> };
      run.config.rewards = { consistency: 0 };
      writeFileSync(file, JSON.stringify(run));
      return { ...a, b };
    },
    {
      options: (a) => ({
        otherRuns: [
          { id: 'fixture-run', dir: a.runDir },
          { id: 'run-b', name: 'run B', dir: a.b.runDir },
        ],
      }),
      ready: (page) => page.waitForSelector('.chart canvas'),
    },
  );

  panel.test('ticking a run overlays its curves, lists the config differences and puts the eval tables side by side', async ({ page }) => {
    await tab(page, 'runs');
    await page.waitForSelector('#compare-run-run-b');
    assert.equal(await page.locator('.runs-picker vscode-checkbox').count(), 1, 'the other run only');
    await page.click('#compare-run-run-b');
    await page.waitForFunction(() => (document.querySelector('.runs-compare') as HTMLElement).dataset.runs === 'fixture-run,run-b');
    const legend = await page.$$eval('.runs-charts .chart[data-chart=reward] .u-legend .u-series .u-label', (ls) =>
      ls.map((l) => l.textContent),
    );
    assert.deepEqual(legend.slice(1), ['fixture run · grounded', 'fixture run · textual', 'run B · grounded', 'run B · textual']);
    const diff = await page.$$eval('.config-diff tr[data-field="rewards.consistency"] td', (tds) => tds.map((t) => t.textContent));
    assert.deepEqual(diff, ['rewards.consistency', '–', '0']);
    const row = await page.$$eval('.runs-eval tr[data-checkpoint=step-6][data-mode=grounded] td', (tds) =>
      tds.map((t) => t.textContent ?? ''),
    );
    assert.equal(row.length, 5);
    for (const c of row.slice(3)) assert.match(c, /^\d+\.\d% · IoU 0\.60$/);
    await shot(page, 'runs-comparison');
  });

  panel.test('the Compare Runs command opens the tab on the runs it chose', async ({ page }) => {
    await tab(page, 'charts');
    const m: HostMessage = { type: 'openRunComparison', runs: [] };
    await page.evaluate((msg) => window.postMessage(msg, '*'), m);
    await page.waitForFunction(() => (document.querySelector('.runs-compare') as HTMLElement).dataset.runs === 'fixture-run');
    await page.evaluate((msg) => window.postMessage(msg, '*'), { ...m, runs: ['run-b'] });
    await page.waitForFunction(() => (document.querySelector('.runs-compare') as HTMLElement).dataset.runs === 'fixture-run,run-b');
    assert.equal(await page.$eval('#compare-run-run-b', (c) => (c as HTMLElement & { checked: boolean }).checked), true);
  });

  panel.test('the checked runs are checked again after the panel reloads', async ({ page }) => {
    await tab(page, 'runs');
    await page.waitForSelector('#compare-run-run-b');
    if ((await page.$eval('.runs-compare', (e) => (e as HTMLElement).dataset.runs)) !== 'fixture-run,run-b')
      await page.click('#compare-run-run-b');
    await page.waitForFunction(() => (document.querySelector('.runs-compare') as HTMLElement).dataset.runs === 'fixture-run,run-b');
    await page.waitForFunction(() => {
      const s = JSON.parse(sessionStorage.getItem('ivgr-harness-state') ?? 'null') as { comparedRuns?: string[] } | null;
      return s?.comparedRuns?.join() === 'run-b';
    });
    await page.reload();
    await page.waitForFunction(() => (document.querySelector('.runs-compare') as HTMLElement | null)?.dataset.runs === 'fixture-run,run-b');
    assert.equal(await page.$eval('#compare-run-run-b', (c) => (c as HTMLElement & { checked: boolean }).checked), true);
    await page.waitForSelector('.runs-charts .chart[data-chart=reward] canvas');
    await page.click('#compare-run-run-b');
    await page.waitForFunction(() => (document.querySelector('.runs-compare') as HTMLElement).dataset.runs === 'fixture-run');
    await page.waitForFunction(() => {
      const s = JSON.parse(sessionStorage.getItem('ivgr-harness-state') ?? 'null') as { comparedRuns?: string[] } | null;
      return s?.comparedRuns?.length === 0;
    });
    await page.reload();
    await page.waitForSelector('#compare-run-run-b');
    assert.equal(await page.$eval('#compare-run-run-b', (c) => (c as HTMLElement & { checked: boolean }).checked), false);
  });
});
