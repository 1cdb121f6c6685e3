/**
 * Compare across runs in Chromium: the harness serves a second recorded run on the same dataset
 * (and a third on another dataset); Compare shows the question's latest step and evaluations in
 * the second run only, and its rollouts and samples open read-only, as that run recorded them.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fmt } from '../../webview/dom';
import { writeFixtureRun } from './harness/fixture';
import { openRollout, panelSuite, shot, skip } from './harness/suite';

describe('compare across runs', { skip }, () => {
  const panel = panelSuite(
    'ivgr-compare-runs-',
    async (root) => {
      const a = await writeFixtureRun(root, { steps: 3, prompts: 3, samples: 2, bigImage: false });
      // Longer, with other answers: its latest step (5) has rollout ids this run does not have.
      const b = await writeFixtureRun(root, {
        id: 'run-b',
        name: 'run B',
        steps: 5,
        prompts: 3,
        samples: 2,
        dataset: a.datasetDir,
        seed: 99,
      });
      const elsewhere = await writeFixtureRun(join(root, 'elsewhere'), { id: 'run-c', steps: 2, prompts: 3, samples: 2, bigImage: false });
      return { ...a, b, elsewhere };
    },
    {
      options: (a) => ({
        otherRuns: [
          { id: 'fixture-run', dir: a.runDir },
          { id: 'run-b', name: 'run B', dir: a.b.runDir },
          { id: 'run-c', dir: a.elsewhere.runDir },
        ],
      }),
      ready: async (page, a) => {
        await openRollout(page, a.rollouts.find((r) => r.promptId === 'q2')!.id, '#compare-button');
        await page.click('#compare-button');
        await page.waitForSelector('.other-run[data-run="run-b"] .card');
      },
    },
  );

  panel.test(
    'the same question in the other run on this dataset: latest step per stream, rewards, correctness, evaluations',
    async ({ page, fx: { b } }) => {
      assert.deepEqual(
        await page.$$eval('.other-run', (els) => els.map((e) => (e as HTMLElement).dataset.run)),
        ['run-b'],
        'the run on another dataset and this run itself are left out',
      );
      const latest = b.rollouts.filter((r) => r.promptId === 'q2' && r.step === 5);
      const section = page.locator('.other-run[data-run="run-b"]');
      assert.match(
        await section.locator('h4').innerText(),
        new RegExp(`^run B · ${b.rollouts.filter((r) => r.promptId === 'q2').length} rollouts of this question · latest step 5$`),
      );
      for (const stream of ['grounded', 'textual'] as const) {
        const want = latest.filter((r) => r.stream === stream).sort((x, y) => x.sample - y.sample);
        const acc = want.filter((r) => r.correct).length / want.length;
        const mean = want.reduce((s, r) => s + r.score, 0) / want.length;
        assert.equal(
          await section.locator(`.group.${stream} h3`).innerText(),
          `${stream} · ${want.length} samples · accuracy ${fmt(acc, 2)} · mean reward ${fmt(mean, 2)}`,
        );
        const cards = await section
          .locator(`.group.${stream} .card`)
          .evaluateAll((els) => els.map((e) => ({ id: (e as HTMLElement).dataset.id, line: e.querySelector('.card-line')!.textContent })));
        assert.deepEqual(
          cards,
          want.map((r) => ({
            id: r.id,
            line: `#${r.sample} answer ${r.answer} ${r.correct ? '✓' : '✗'} · reward ${fmt(r.score, 2)} · adv ${fmt(r.advantage, 2)}`,
          })),
        );
      }
      const evals = b.evals.filter((e) => e.promptId === 'q2');
      const cells = await section
        .locator('.compare-evals button')
        .evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.id, e.textContent]));
      assert.deepEqual(
        cells.sort(),
        evals.map((e) => [e.id, `${e.correct ? '✓' : '✗'} ${e.answer}${e.iou !== null ? ` · IoU ${fmt(e.iou, 2)}` : ''}`]).sort(),
      );
      await shot(page, '30-compare-runs');
    },
  );

  panel.test(
    "a rollout of the other run opens as that run recorded it, without this run's annotation form",
    async ({ page, h, fx: { b } }) => {
      const target = b.rollouts.find((r) => r.promptId === 'q2' && r.step === 5 && r.stream === 'grounded')!;
      await page.click(`.other-run[data-run="run-b"] .card[data-id="${target.id}"]`);
      await page.waitForSelector(`.detail[data-run="run-b"][data-id="${target.id}"] .reward-table`);
      assert.deepEqual(h.host.received.filter((m) => m.type === 'getRollout').at(-1), { type: 'getRollout', id: target.id, run: 'run-b' });
      assert.equal(
        await page.$eval('vscode-tabs', (t) => (t as HTMLElement & { selectedIndex: number }).selectedIndex),
        1,
        'the rollouts tab shows it',
      );
      assert.equal(await page.locator('.detail .fact[data-fact=run]').innerText(), 'run run-b');
      assert.equal(await page.locator('.detail .fact[data-fact=answer]').innerText(), `answer ${target.answer}`);
      assert.equal(await page.locator('.detail .trace').innerText(), target.output);
      assert.equal(
        await page.locator('.detail .reward-table tr[data-term=accuracy] td.explain').innerText(),
        target.rewards.accuracy!.explanation,
      );
      assert.equal(await page.locator('.detail .annotate').isHidden(), true);
      await page.waitForSelector('.overlay g.box.evidence');

      // An evaluation sample of the other run opens on the Evaluation tab, also read-only.
      await page.click('vscode-tab-header[data-tab=compare]');
      const sample = b.evals.find((e) => e.promptId === 'q2' && e.checkpoint === 'step-6' && e.mode === 'grounded')!;
      await page.click(`.other-run[data-run="run-b"] .compare-evals button[data-id="${sample.id}"]`);
      await page.waitForSelector(`.detail[data-run="run-b"][data-kind=eval][data-id="${sample.id}"]`);
      assert.match(await page.locator('.detail-head h2').innerText(), /· run run-b$/);
      assert.equal(await page.locator('.detail .fact[data-fact=answer]').innerText(), `answer ${sample.answer}`);
      assert.equal(await page.locator('.detail .annotate').isHidden(), true);
      assert.deepEqual(h.problems, []);
    },
  );
});
