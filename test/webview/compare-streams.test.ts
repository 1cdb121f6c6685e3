/**
 * Compare streams for one question: the question and its image with the grounded boxes drawn,
 * the grounded and textual traces side by side with each one's reward breakdown, and for a
 * textual trace the consistency reference map (where the high-quality grounded traces looked, on
 * the 3×3 grid) against the regions the trace names.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { RolloutRecord } from '../../src/core/types';
import { makeRollout, prompts, writeFixtureRun } from './harness/fixture';
import { openRollout, panelSuite, shot, skip } from './harness/suite';

describe('compare streams', { skip }, () => {
  const panel = panelSuite('ivgr-streams-', (root) => writeFixtureRun(root, { steps: 3, prompts: 2, samples: 2, bigImage: false }), {
    ready: (page) => page.waitForSelector('.chart canvas'),
  });

  panel.test('both traces side by side, each reward breakdown, and what the consistency term measured', async ({ page, h }) => {
    const p = prompts(2, false)[0]!;
    const base = (n: number, stream: 'grounded' | 'textual', sample: number): RolloutRecord =>
      makeRollout(n, 9, stream, p, sample, () => 0.5);
    // Two high-quality grounded traces looking at the top-left of the 640×480 image.
    const g = [0, 1].map((i) => ({
      ...base(400_000 + i, 'grounded', i),
      correct: true,
      boxes: [[10, 10, 100, 80]] as RolloutRecord['boxes'],
    }));
    const t: RolloutRecord = {
      ...base(400_010, 'textual', 0),
      output: '<think>The sign sits near the top-left corner of the picture.</think>\n<answer>A</answer>',
      references: g.map((r) => r.id),
      rewards: {
        accuracy: { value: 1, weight: 1, explanation: 'answer A' },
        consistency: { value: 0.9, weight: 0.5, explanation: 'answer agrees with 2/2 reference(s); 1 region phrase(s), localisation 1' },
      },
    };
    await h.host.appendLive([...g, t]);
    await openRollout(page, t.id, '#compare-button');
    await page.click('#compare-button');
    await page.waitForSelector('.stream-pair .pair-image[data-boxes="2"]');
    assert.equal(await page.textContent('.stream-pair .question'), `Question ${p.question}`);
    assert.equal(await page.locator('.pair-column.grounded .pair-card').count(), 2);
    const card = page.locator(`.pair-column.textual .pair-card[data-id="${t.id}"]`);
    assert.equal(await card.locator('pre.trace').textContent(), t.output);
    assert.deepEqual(await card.locator('.pair-rewards tr').evaluateAll((rows) => rows.map((r) => r.textContent)), [
      'accuracy1.00×1.001.00',
      'consistency0.90×0.500.45',
      `total${t.score.toFixed(2)}`,
    ]);
    const cells = await card
      .locator('.grid3 .cell')
      .evaluateAll((cs) => cs.map((c) => ({ weight: (c as HTMLElement).dataset.weight, named: c.classList.contains('named') })));
    assert.equal(cells.length, 9);
    assert.deepEqual(cells[0], { weight: '1.00', named: true }, 'the references looked top-left, and the trace names it');
    assert.ok(cells.slice(1).every((c) => c.weight === '0.00' && !c.named));
    await shot(page, 'compare-streams');
  });
});
