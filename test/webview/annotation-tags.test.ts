/**
 * A changed `ivgr.annotation.tags` setting reaches an open panel: the annotation form and the tag
 * filter offer the new tags at once, and a note being written is not lost.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { TAGS, writeFixtureRun, type FixtureRun } from './harness/fixture';
import { chromiumAvailable, openPanel, type Harness } from './harness/panel';

const skip = chromiumAvailable() ? false : 'needs /usr/bin/chromium and a built dist/webview.js (npm run build)';

async function formTags(page: Page): Promise<string[]> {
  return page.$$eval('.detail .tag-list vscode-checkbox', (els) => els.map((e) => (e as HTMLElement & { value: string }).value));
}

describe('annotation tags from the settings', { skip }, () => {
  let root: string;
  let fx: FixtureRun;
  let h: Harness;
  let page: Page;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ivgr-panel-tags-'));
    fx = await writeFixtureRun(root, { steps: 2, prompts: 2, samples: 2, bigImage: false });
    h = await openPanel(fx.runDir, fx.datasetDir);
    page = h.page;
    await page.click('vscode-tab-header[data-tab=rollouts]');
    const r = fx.rollouts[0]!;
    await page.locator('#filter-text').locator('input').fill(r.id);
    await page.click(`.list .row[data-index="0"][data-id="${r.id}"]`);
    await page.waitForSelector(`.detail[data-id="${r.id}"] .tag-list`);
  });

  after(async () => {
    await h?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('the form and the filter switch to the new tags, keeping the draft note and the ticks that remain', async () => {
    assert.deepEqual(await formTags(page), TAGS);
    await page.locator('#tag-wrong-region').click();
    await page.locator('#tag-format').click();
    await page.locator('#annotation-note').locator('textarea').fill('reads the label of the wrong sign');

    h.host.setTags(['wrong-region', 'occluded-target']);
    await page.waitForSelector('#tag-occluded-target');
    assert.deepEqual(await formTags(page), ['wrong-region', 'occluded-target']);
    assert.equal(await page.$eval('#tag-wrong-region', (e) => (e as HTMLElement & { checked: boolean }).checked), true);
    assert.equal(await page.$eval('#tag-occluded-target', (e) => (e as HTMLElement & { checked: boolean }).checked), false);
    assert.equal(await page.$eval('#annotation-note', (e) => (e as HTMLElement & { value: string }).value), 'reads the label of the wrong sign');
    assert.equal(await page.locator('#filter-tag-format').count(), 0, 'a removed tag leaves the filter');
    await page.locator('#filter-tag-occluded-target').waitFor();

    await page.click('#save-annotation');
    await page.waitForFunction(() => document.querySelector('[data-role=annotation-state]')?.textContent?.startsWith('annotated'));
    const saved = h.host.currentAnnotations().find((a) => a.target.kind === 'rollout' && a.target.id === fx.rollouts[0]!.id);
    assert.deepEqual(saved?.tags, ['wrong-region']);
    assert.equal(saved?.note, 'reads the label of the wrong sign');
  });
});
