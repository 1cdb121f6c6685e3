/**
 * The header's Pause, Resume and Stop know the run's state: each is enabled only where it acts
 * (a running run pauses and stops, a paused one resumes and stops, a stopped one resumes from its
 * checkpoint, a finished or imported one offers none, a followed import only stops), and a
 * disabled one sends nothing.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { HostMessage } from '../../src/core/protocol/webview';
import type { RunStatus } from '../../src/core/types';
import { panelControls } from '../../src/extension/run-display';
import { writeFixtureRun } from './harness/fixture';
import { panelSuite, shot, skip } from './harness/suite';

async function enabled(page: Page): Promise<string[]> {
  return page.$$eval('.controls vscode-button', (bs) =>
    bs.filter((b) => !(b as HTMLElement & { disabled: boolean }).disabled).map((b) => b.id.replace('control-', '')),
  );
}

async function waitEnabled(page: Page, want: string[]): Promise<void> {
  await page
    .waitForFunction(
      (w) =>
        [...document.querySelectorAll('.controls vscode-button')]
          .filter((b) => !(b as HTMLElement & { disabled: boolean }).disabled)
          .map((b) => b.id.replace('control-', ''))
          .join() === w.join(),
      want,
      { timeout: 5000 },
    )
    .catch(async () => assert.deepEqual(await enabled(page), want));
}

/** Posts a status as the extension does for a run in `status` (imported or not). */
async function postStatus(page: Page, status: RunStatus, imported: boolean): Promise<void> {
  const m: HostMessage = {
    type: 'status',
    status: { status, step: 3, totalSteps: 20, phase: 'idle', controls: panelControls({ status, checkpoints: [3], imported }) },
  };
  await page.evaluate((msg) => window.postMessage(msg, '*'), m);
}

describe('run controls', { skip }, () => {
  const panel = panelSuite('ivgr-controls-', (root) => writeFixtureRun(root, { steps: 3, prompts: 2, samples: 2, bigImage: false }), {
    ready: (page) => page.waitForSelector('[data-role=status][data-status=running]'),
  });

  panel.test('each control is enabled only in the states where it acts', async ({ page, h }) => {
    await waitEnabled(page, ['pause', 'stop']);
    await page.click('#control-resume', { force: true });
    await page.click('#control-pause');
    await page.waitForSelector('[data-role=status][data-status=paused]');
    await waitEnabled(page, ['resume', 'stop']);
    await page.click('#control-stop');
    await page.waitForSelector('[data-role=status][data-status=stopped]');
    // A stopped run resumes from its latest checkpoint; it cannot be paused or stopped again.
    await waitEnabled(page, ['resume']);
    const sent = h.host.received.filter((m) => m.type === 'control').map((m) => (m.type === 'control' ? m.action : ''));
    assert.deepEqual(sent, ['pause', 'stop'], 'the disabled Resume sent nothing');
    await postStatus(page, 'finished', false);
    await waitEnabled(page, []);
    await shot(page, 'controls-finished');
  });

  panel.test('an imported run offers no control; a followed import offers only Stop', async ({ page }) => {
    await postStatus(page, 'finished', true);
    await waitEnabled(page, []);
    await postStatus(page, 'running', true);
    await waitEnabled(page, ['stop']);
    await postStatus(page, 'stopped', true);
    await waitEnabled(page, []);
  });
});
