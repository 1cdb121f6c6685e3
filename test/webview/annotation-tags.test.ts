/**
 * A changed `ivgr.annotation.tags` setting reaches an open panel: the annotation form and the tag
 * filter offer the new tags at once, and a note being written is not lost.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { TAGS, writeFixtureRun } from './harness/fixture';
import { openRollout, panelSuite, skip } from './harness/suite';

async function formTags(page: Page): Promise<string[]> {
  return page.$$eval('.detail .tag-list vscode-checkbox', (els) => els.map((e) => (e as HTMLElement & { value: string }).value));
}

describe('annotation tags from the settings', { skip }, () => {
  const panel = panelSuite('ivgr-panel-tags-', (root) => writeFixtureRun(root, { steps: 2, prompts: 2, samples: 2, bigImage: false }), {
    ready: (page, fx) => openRollout(page, fx.rollouts[0]!.id, '.tag-list'),
  });

  panel.test(
    'the form and the filter switch to the new tags, keeping the draft note and the ticks that remain',
    async ({ page, h, fx }) => {
      assert.deepEqual(await formTags(page), TAGS);
      await page.locator('#tag-wrong-region').click();
      await page.locator('#tag-format').click();
      await page.locator('#annotation-note').locator('textarea').fill('reads the label of the wrong sign');

      h.host.setTags(['wrong-region', 'occluded-target']);
      await page.waitForSelector('#tag-occluded-target');
      assert.deepEqual(await formTags(page), ['wrong-region', 'occluded-target']);
      assert.equal(await page.$eval('#tag-wrong-region', (e) => (e as HTMLElement & { checked: boolean }).checked), true);
      assert.equal(await page.$eval('#tag-occluded-target', (e) => (e as HTMLElement & { checked: boolean }).checked), false);
      assert.equal(
        await page.$eval('#annotation-note', (e) => (e as HTMLElement & { value: string }).value),
        'reads the label of the wrong sign',
      );
      assert.equal(await page.locator('#filter-tag-format').count(), 0, 'a removed tag leaves the filter');
      await page.locator('#filter-tag-occluded-target').waitFor();

      await page.click('#save-annotation');
      await page.waitForFunction(() => document.querySelector('[data-role=annotation-state]')?.textContent?.startsWith('annotated'));
      const saved = h.host.currentAnnotations().find((a) => a.target.kind === 'rollout' && a.target.id === fx.rollouts[0]!.id);
      assert.deepEqual(saved?.tags, ['wrong-region']);
      assert.equal(saved?.note, 'reads the label of the wrong sign');
    },
  );
});
