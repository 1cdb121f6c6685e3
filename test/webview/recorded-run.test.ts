/**
 * The panel on a run recorded from the real worker and the built-in tiny model
 * (test/webview/fixtures/recorded-run, made by harness/record-fixture.ts): the charts hold the
 * recorded steps, the rollout list exactly the recorded rollouts, a grounded rollout's boxes are
 * drawn where the record puts them, the evaluation table agrees with summarizeEval, and traces
 * read exactly as the model wrote them.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeEval } from '../../src/core/stats';
import type { EvalRecord, MetricsRecord, RolloutRecord } from '../../src/core/types';
import { copyRecordedRun, recordedLines, recordedQuestions } from './harness/recorded';
import { openRollout, panelSuite, rewardLegend, setSelect, setSmoothing, shot, skip, tab, waitTotal } from './harness/suite';

const rolloutLines = recordedLines('rollouts');
const rollouts = rolloutLines.map((l) => JSON.parse(l) as RolloutRecord);
const metrics = recordedLines('metrics').map((l) => JSON.parse(l) as MetricsRecord);
const evals = recordedLines('eval').map((l) => JSON.parse(l) as EvalRecord);

function pct(n: number): string {
  return `${(n * 100).toFixed(1)}%`;
}

describe('panel on a run recorded from the worker', { skip }, () => {
  const panel = panelSuite('ivgr-recorded-', (root) => Promise.resolve(copyRecordedRun(root)), {
    ready: (page) => page.waitForSelector('.chart canvas'),
  });

  panel.test('the charts span the recorded steps with the recorded rewards', async ({ page }) => {
    assert.ok(metrics.length >= 3, 'the fixture holds several RL steps');
    await setSmoothing(page, 0);
    for (const [edge, m] of [
      ['first', metrics[0]!],
      ['last', metrics.at(-1)!],
    ] as const) {
      const legend = await rewardLegend(page, edge);
      assert.equal(legend.step, String(m.step), `${edge} step on the chart`);
      for (const stream of ['grounded', 'textual'] as const) {
        const shown = Number((legend[stream] ?? '').replace(/,/g, ''));
        assert.ok(
          Math.abs(shown - m.reward[stream]!) < 6e-4,
          `${stream} reward at step ${m.step}: ${legend[stream]} vs ${m.reward[stream]}`,
        );
      }
    }
    await shot(page, '50-recorded-charts');
  });

  panel.test('the rollout list holds exactly the recorded rollouts, and the stream filter splits them', async ({ page }) => {
    await tab(page, 'rollouts');
    await waitTotal(page, rolloutLines.length);
    const grounded = rollouts.filter((r) => r.stream === 'grounded');
    const textual = rollouts.filter((r) => r.stream === 'textual');
    assert.ok(grounded.length > 0 && textual.length > 0, 'both streams were recorded');
    assert.equal(grounded.length + textual.length, rolloutLines.length);
    await setSelect(page, 'filter-stream', 'grounded');
    await waitTotal(page, grounded.length);
    await setSelect(page, 'filter-stream', 'textual');
    await waitTotal(page, textual.length);
    // The count can update before the pooled rows are refilled: wait for the rows themselves.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll<HTMLElement>('.list .row:not([hidden]):not(.loading)')];
      return rows.length > 0 && rows.every((r) => r.dataset.stream === 'textual');
    });
    const shown = await page.$$eval('.list .row:not([hidden]):not(.loading)', (rows) => rows.map((r) => (r as HTMLElement).dataset.id));
    assert.ok(
      shown.every((id) => textual.some((r) => r.id === id)),
      'every listed row is a recorded textual rollout',
    );
    await setSelect(page, 'filter-stream', '');
    await waitTotal(page, rolloutLines.length);
  });

  panel.test('a grounded rollout with boxes has them drawn on the image where the record puts them', async ({ page }) => {
    const r = rollouts.find((x) => x.stream === 'grounded' && x.boxes.length > 0);
    assert.ok(r, 'the recorded run has a grounded rollout that cites a box');
    const size = recordedQuestions().find((q) => q.id === r.promptId)!;
    await openRollout(page, r.id, '.trace');
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('.stage img')?.naturalWidth ?? 0) > 0);
    await page.waitForFunction((n) => document.querySelectorAll('.overlay g.box.predicted').length === n, r.boxes.length);
    const img = (await page.locator('.stage img').boundingBox())!;
    const sx = img.width / size.width;
    const sy = img.height / size.height;
    for (let i = 0; i < r.boxes.length; i++) {
      const [x1, y1, x2, y2] = r.boxes[i]!;
      // Where the rect's geometry lands on screen, stroke left out (a bounding box would include it).
      const rect = await page.$eval(`.overlay g.box.predicted[data-key=p${i}] rect`, (el) => {
        const r = el as SVGRectElement;
        const svg = r.ownerSVGElement!;
        const o = svg.getBoundingClientRect();
        const k = { x: o.width / svg.viewBox.baseVal.width, y: o.height / svg.viewBox.baseVal.height };
        const b = r.getBBox();
        return { x: o.x + b.x * k.x, y: o.y + b.y * k.y, width: b.width * k.x, height: b.height * k.y };
      });
      const want = { x: img.x + x1 * sx, y: img.y + y1 * sy, width: (x2 - x1) * sx, height: (y2 - y1) * sy };
      for (const k of ['x', 'y', 'width', 'height'] as const) {
        assert.ok(Math.abs(rect[k] - want[k]) <= 1.5, `box p${i} ${k}: drawn ${rect[k].toFixed(1)}, record ${want[k].toFixed(1)}`);
      }
    }
    await shot(page, '51-recorded-boxes');
  });

  panel.test('the trace viewer shows the recorded output exactly, for rollouts of both streams', async ({ page }) => {
    for (const stream of ['grounded', 'textual'] as const) {
      const r = rollouts.find((x) => x.stream === stream)!;
      await openRollout(page, r.id, '.trace');
      const text = await page.$$eval('.detail .trace > span', (els) => els.map((e) => e.textContent ?? '').join(''));
      assert.equal(text, r.output);
    }
    await page.locator('#filter-text').locator('input').fill('');
  });

  panel.test('the evaluation table shows what summarizeEval makes of the recorded eval.jsonl, in the three modes', async ({ page, h }) => {
    const rows = summarizeEval(evals);
    assert.deepEqual([...new Set(rows.map((r) => r.mode))].sort(), ['grounded', 'textual', 'tool']);
    await tab(page, 'eval');
    await page.waitForSelector('button.cell');
    assert.equal(await page.locator('button.cell').count(), rows.length);
    for (const r of rows) {
      const cell = page.locator(`button.cell[data-checkpoint="${r.checkpoint}"][data-mode=${r.mode}][data-engine=${r.engine}]`);
      assert.equal(await cell.locator('.acc').innerText(), pct(r.accuracy), `${r.checkpoint} ${r.mode} accuracy`);
      assert.equal(
        (await cell.locator('.ci').innerText()).trim(),
        `[${pct(r.ciLow)}–${pct(r.ciHigh)}]`,
        `${r.checkpoint} ${r.mode} interval`,
      );
      const sub = r.meanIou === null ? `n=${r.n}` : `IoU ${r.meanIou.toFixed(2)} · hit ${pct(r.hitRate!)} · n=${r.n}`;
      assert.equal(await cell.locator('.sub.muted').innerText(), sub, `${r.checkpoint} ${r.mode} IoU and count`);
    }
    // A tool-mode sample opens with the model's output exactly as recorded.
    const sample = evals.find((e) => e.mode === 'tool')!;
    await page.click(`button.cell[data-checkpoint="${sample.checkpoint}"][data-mode=tool]`);
    await page.click(`.sample-list tr.sample[data-id="${sample.id}"]`);
    await page.waitForSelector(`.detail[data-kind=eval][data-id="${sample.id}"] .trace`);
    const text = await page.$$eval(`.detail[data-kind=eval][data-id="${sample.id}"] .trace > span`, (els) =>
      els.map((e) => e.textContent ?? '').join(''),
    );
    assert.equal(text, sample.output);
    await shot(page, '52-recorded-eval');
    assert.deepEqual(h.problems, [], 'no dialogs, page errors or CSP violations');
  });
});
