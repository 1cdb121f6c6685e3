/**
 * Panel features a user relies on, driven in Chromium: the reward breakdown with each term's
 * explanation, <think>/<answer> highlighting from the parser's spans, the image's layer toggles
 * and colour legend, the smoothing control changing the plotted values, charts following live
 * metrics, and an annotation of an evaluation sample.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { MetricsRecord } from '../../src/core/types';
import { fmt } from '../../webview/dom';
import { smooth } from '../../webview/metrics-series';
import { makeMetrics, savedAnnotations, TAGS, writeFixtureRun } from './harness/fixture';
import { openRollout, panelSuite, rewardLegend, setSmoothing, shot, skip, tab } from './harness/suite';

/** Hovers the last step of the reward chart and reads its legend: the step and the grounded value. */
async function rewardAtLastStep(page: Page): Promise<{ step: string; grounded: number }> {
  const legend = await rewardLegend(page, 'last');
  return { step: legend.step ?? '', grounded: Number((legend.grounded ?? '').replace(/,/g, '')) };
}

/** What the reward chart should show at its last step for grounded, with smoothing `w`. */
function expectedGrounded(records: MetricsRecord[], w: number): number {
  return smooth(
    records.map((m) => m.reward.grounded ?? null),
    w,
  ).at(-1)!;
}

describe('panel features', { skip }, () => {
  const metrics = Array.from({ length: 6 }, (_, i) => makeMetrics(i + 1));
  const panel = panelSuite('ivgr-panel-features-', (root) => writeFixtureRun(root, { steps: 6, prompts: 2, samples: 2, bigImage: false }), {
    ready: (page) => page.waitForSelector('.chart canvas'),
  });

  panel.test('the smoothing control changes the plotted values, not only its label', async ({ page }) => {
    await setSmoothing(page, 0);
    const raw = await rewardAtLastStep(page);
    assert.equal(raw.step, '6');
    assert.ok(Math.abs(raw.grounded - metrics[5]!.reward.grounded!) < 6e-4, `unsmoothed ${raw.grounded} vs ${metrics[5]!.reward.grounded}`);
    await setSmoothing(page, 0.9);
    await page.waitForFunction(() => document.querySelector('.chart-tools .muted')?.textContent === '0.90');
    const want = expectedGrounded(metrics, 0.9);
    assert.ok(Math.abs(want - metrics[5]!.reward.grounded!) > 0.005, 'the fixture makes smoothing visible');
    const smoothed = await rewardAtLastStep(page);
    assert.ok(Math.abs(smoothed.grounded - want) < 6e-4, `smoothed ${smoothed.grounded} vs ${want}`);
    await shot(page, '40-smoothing-0.9');
  });

  panel.test('live metrics messages extend the charts', async ({ page, h }) => {
    const live = [makeMetrics(7), makeMetrics(8)];
    h.host.appendMetrics(live);
    // The charts redraw on the next animation frame.
    let now = await rewardAtLastStep(page);
    for (let i = 0; i < 20 && now.step !== '8'; i++) {
      await page.waitForTimeout(50);
      now = await rewardAtLastStep(page);
    }
    assert.equal(now.step, '8', 'the last step on the chart is the live one');
    const want = expectedGrounded([...metrics, ...live], 0.9);
    assert.ok(Math.abs(now.grounded - want) < 6e-4, `live ${now.grounded} vs ${want}`);
    // Every chart follows, e.g. tokens per second at step 8 (smoothed alike).
    const tps = page.locator('.chart[data-chart=tps] .u-legend .u-series').filter({ hasText: 'tokens/s' }).locator('.u-value');
    const wantTps = smooth(
      [...metrics, ...live].map((m) => m.tokensPerSecond ?? null),
      0.9,
    ).at(-1)!;
    assert.ok(
      Math.abs(Number((await tps.innerText()).replace(/,/g, '')) - wantTps) < 6e-3,
      `tokens/s ${await tps.innerText()} vs ${wantTps}`,
    );
    await setSmoothing(page, 0.6);
  });

  panel.test('the reward breakdown lists each term with value, weight, weighted value and its explanation', async ({ page, fx }) => {
    const r = fx.rollouts.find((x) => x.stream === 'grounded' && x.correct)!;
    await openRollout(page, r.id, '.reward-table');
    const rows = await page.$$eval('.detail .reward-table tbody tr', (trs) =>
      trs.map((tr) => [(tr as HTMLElement).dataset.term, ...[...tr.children].map((c) => c.textContent)]),
    );
    const terms = ['accuracy', 'format', 'grounding', 'consistency', 'tool'] as const;
    const want = terms.flatMap((t) => {
      const v = r.rewards[t];
      return v ? [[t, t, fmt(v.value), `×${fmt(v.weight, 2)}`, fmt(v.value * v.weight), v.explanation]] : [];
    });
    assert.deepEqual(rows, want);
    assert.ok(
      rows.some((row) => row[0] === 'grounding') && !rows.some((row) => row[0] === 'consistency'),
      'a grounded rollout has a grounding term and no consistency term',
    );
  });

  panel.test(
    '<think> and <answer> are highlighted from the parser spans, and the trace reads exactly as the output',
    async ({ page, fx }) => {
      const r = fx.rollouts.find((x) => x.stream === 'grounded' && x.correct)!;
      const segs = await page.$$eval('.detail .trace > span', (els) => els.map((e) => ({ cls: e.className, text: e.textContent ?? '' })));
      assert.equal(segs.map((s) => s.text).join(''), r.output, 'the spans tile the output');
      const tags = segs.filter((s) => s.cls === 'seg tag').map((s) => s.text);
      assert.deepEqual(tags, ['<think>', '</think>', '<answer>', '</answer>']);
      const answer = segs.filter((s) => s.cls === 'seg answer');
      assert.deepEqual(
        answer.map((s) => s.text),
        [r.answer],
      );
      // Everything between <think> and </think> is reasoning, a box it cites or a zoom call it makes.
      const open = segs.findIndex((s) => s.text === '<think>');
      const close = segs.findIndex((s) => s.text === '</think>');
      const inside = segs.slice(open + 1, close);
      assert.ok(
        inside.length > 0 && inside.every((s) => ['seg think', 'seg box', 'seg tool'].includes(s.cls)),
        JSON.stringify(inside.map((s) => s.cls)),
      );
      assert.equal(inside.filter((s) => s.cls === 'seg box').length, r.boxes.length);
      const style = (cls: string) =>
        page.$eval(`.detail .trace .seg.${cls}`, (e) => ({ color: getComputedStyle(e).color, weight: getComputedStyle(e).fontWeight }));
      const [think, ans, tag] = [await style('think'), await style('answer'), await style('tag')];
      assert.notEqual(ans.color, think.color, 'the answer stands out from the reasoning');
      assert.equal(ans.weight, '600');
      assert.notEqual(tag.color, think.color, 'tags are dimmed');
    },
  );

  panel.test(
    'image layers toggle predicted and ground-truth boxes, the choice is kept, and the legend matches the box colours',
    async ({ page, fx }) => {
      await page.waitForSelector('.overlay g.box.predicted');
      const count = (kind: string) => page.locator(`.overlay g.box.${kind}`).count();
      assert.equal(await count('predicted'), 1);
      assert.equal(await count('evidence'), 1);
      const swatch = (sel: string) => page.$eval(sel, (e) => getComputedStyle(e).borderTopColor);
      const stroke = (sel: string) => page.$eval(sel, (e) => getComputedStyle(e).stroke);
      const colours = {
        legend: { predicted: await swatch('.legend.predicted .swatch'), evidence: await swatch('.legend.evidence .swatch') },
        boxes: { predicted: await stroke('.overlay g.box.predicted rect'), evidence: await stroke('.overlay g.box.evidence rect') },
      };
      assert.deepEqual(colours.legend, colours.boxes, 'each legend swatch has its boxes\u2019 colour');
      assert.notEqual(colours.boxes.predicted, colours.boxes.evidence);

      await page.click('#layer-predicted');
      await page.waitForFunction(() => document.querySelectorAll('.overlay g.box.predicted').length === 0);
      assert.equal(await count('evidence'), 1, 'ground truth stays while predictions are hidden');
      await page.click('#layer-evidence');
      await page.waitForFunction(() => document.querySelectorAll('.overlay g.box.evidence').length === 0);
      await page.waitForFunction(() => {
        const s = JSON.parse(sessionStorage.getItem('ivgr-harness-state') ?? 'null') as {
          layers?: { predicted: boolean; evidence: boolean };
        } | null;
        return s?.layers?.predicted === false && s.layers.evidence === false;
      });
      await shot(page, '41-layers-hidden');
      // Another rollout keeps the user's choice.
      const other = fx.rollouts.find((x) => x.stream === 'grounded' && x.promptId === 'q1')!;
      await openRollout(page, other.id, '.reward-table');
      assert.equal(await count('predicted'), 0);
      assert.equal(await count('evidence'), 0);
      await page.click('#layer-predicted');
      await page.click('#layer-evidence');
      await page.waitForSelector('.overlay g.box.predicted');
      assert.equal(await count('evidence'), 1);
    },
  );

  panel.test(
    'an evaluation sample is annotated: the record targets the eval sample and comes back when reopened',
    async ({ page, h, fx }) => {
      const sample =
        fx.evals.find((e) => e.checkpoint === 'step-3' && e.mode === 'grounded' && !e.correct) ??
        fx.evals.find((e) => e.checkpoint === 'step-3' && e.mode === 'grounded')!;
      const tag = TAGS[TAGS.length - 1]!;
      await tab(page, 'eval');
      await page.click('button.cell[data-checkpoint=step-3][data-mode=grounded]');
      await page.click(`.sample-list tr.sample[data-id="${sample.id}"]`);
      await page.waitForSelector(`.detail[data-kind=eval][data-id="${sample.id}"] #save-annotation`);
      await page.locator(`[id="tag-${tag}"]`).click();
      await page.locator('#annotation-note').locator('textarea').fill('cites the box but answers Z');
      await page.click('#save-annotation');
      await page.waitForFunction(() => document.querySelector('[data-role=annotation-state]')?.textContent?.startsWith('annotated'));
      const rec = savedAnnotations(fx.runDir).at(-1)!;
      assert.deepEqual(rec.target, { kind: 'eval', id: sample.id });
      assert.deepEqual(rec.tags, [tag]);
      assert.equal(rec.note, 'cites the box but answers Z');

      // Another sample shows no annotation; the annotated one shows its record again.
      const next = fx.evals.find((e) => e.checkpoint === 'step-3' && e.mode === 'grounded' && e.id !== sample.id)!;
      await page.click(`.sample-list tr.sample[data-id="${next.id}"]`);
      await page.waitForSelector(`.detail[data-kind=eval][data-id="${next.id}"]`);
      assert.equal(await page.locator('[data-role=annotation-state]').innerText(), 'not annotated');
      await page.click(`.sample-list tr.sample[data-id="${sample.id}"]`);
      await page.waitForSelector(`.detail[data-kind=eval][data-id="${sample.id}"]`);
      assert.equal(await page.$eval(`[id="tag-${tag}"]`, (e) => (e as HTMLElement & { checked: boolean }).checked), true);
      assert.equal(
        await page.$eval('#annotation-note', (e) => (e as HTMLElement & { value: string }).value),
        'cites the box but answers Z',
      );
      // An eval annotation is not a rollout's: the rollout tag filter finds none.
      await tab(page, 'rollouts');
      await page.locator('#filter-text').locator('input').fill('');
      await page.locator(`[id="filter-tag-${tag}"]`).click();
      await page.waitForFunction(() => (document.querySelector('.browser') as HTMLElement | null)?.dataset.total === '0');
      assert.deepEqual(h.problems, []);
    },
  );
});
