/**
 * The evaluation table of a run on two datasets, in Chromium: a row per checkpoint and dataset
 * ("all" for a full evaluation, the dataset's name for `ivgr eval --dataset`), each cell's accuracy
 * as summarizeEval computes it, and a click on a cell lists only that dataset's samples.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeEval } from '../../src/core/stats';
import type { EvalRecord } from '../../src/core/types';
import { pct } from '../../webview/dom';
import { writeFixtureRun } from './harness/fixture';
import { panelSuite, skip, tab } from './harness/suite';

describe('evaluation table of a run on several datasets', { skip }, () => {
  const panel = panelSuite(
    'ivgr-eval-datasets-',
    async (root) => {
      const fx = await writeFixtureRun(root, { steps: 2, prompts: 4, samples: 1, bigImage: false });
      writeFileSync(
        join(fx.runDir, 'run.json'),
        JSON.stringify({
          id: 'fixture-run',
          status: 'running',
          config: {
            datasets: [
              { path: fx.datasetDir, name: 'shapes' },
              { path: join(root, 'signs'), name: 'signs' },
            ],
          },
        }),
      );
      // The worker's records: ids prefixed by dataset; step-3 a full evaluation, step-6 one `ivgr eval --dataset` per dataset.
      // The signs questions fail where the shapes ones pass, so the two datasets' cells differ.
      const of = (e: EvalRecord, name: string, dataset: boolean): EvalRecord => ({
        ...e,
        id: `${e.id}-${name}`,
        promptId: `${name}/${e.promptId}`,
        correct: name === 'signs' ? !e.correct : e.correct,
        ...(dataset ? { dataset: name } : {}),
      });
      const evals = ['shapes', 'signs'].flatMap((name) => fx.evals.map((e) => of(e, name, e.checkpoint === 'step-6')));
      writeFileSync(join(fx.runDir, 'events', 'eval.jsonl'), evals.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const rows = summarizeEval(evals);
      writeFileSync(join(fx.runDir, 'eval-summary.json'), JSON.stringify({ v: 1, split: 'val', rows }));
      return { runDir: fx.runDir, datasetDir: fx.datasetDir, evals, rows };
    },
    {
      ready: async (page) => {
        await tab(page, 'eval');
        await page.waitForSelector('.eval-table table.summary');
      },
    },
  );

  panel.test(
    'one row per checkpoint and dataset, "all" for the full evaluation, accuracy as summarizeEval gives it',
    async ({ page, fx: { rows } }) => {
      const names = await page.$$eval('.eval-table tbody tr', (trs) =>
        trs.map((tr) => [(tr as HTMLElement).dataset.dataset, tr.querySelector('th')?.textContent]),
      );
      assert.deepEqual(names, [
        ['all', 'step-3 · all'],
        ['shapes', 'step-6 · shapes'],
        ['signs', 'step-6 · signs'],
      ]);
      assert.equal(rows.length, 9);
      for (const r of rows) {
        const cell = `button.cell[data-checkpoint="${r.checkpoint}"][data-mode="${r.mode}"][data-dataset="${r.dataset ?? 'all'}"]`;
        assert.equal(await page.locator(`${cell} .acc`).textContent(), pct(r.accuracy), cell);
        assert.match((await page.locator(`${cell} .sub`).first().textContent()) ?? '', new RegExp(`n=${r.n}$`), cell);
      }
      const acc = (d: string) => rows.find((r) => r.checkpoint === 'step-6' && r.mode === 'grounded' && r.dataset === d)!.accuracy;
      assert.notEqual(acc('shapes'), acc('signs'), 'the datasets are told apart');
    },
  );

  panel.test(
    "a click on a dataset's cell lists only that dataset's samples; the full evaluation's lists every dataset",
    async ({ page, h, fx: { evals } }) => {
      await page.click('button.cell[data-checkpoint=step-6][data-mode=grounded][data-dataset=signs]');
      await page.waitForFunction(() => document.querySelector('[data-role=eval-samples-title]')?.textContent?.startsWith('step-6 · signs'));
      const signs = evals.filter((e) => e.checkpoint === 'step-6' && e.mode === 'grounded' && e.dataset === 'signs');
      assert.deepEqual(
        await page.$$eval('.sample-list tr.sample', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.id)),
        signs.map((e) => e.id),
      );
      assert.match(
        (await page.locator('[data-role=eval-samples-title]').textContent()) ?? '',
        new RegExp(`${signs.length} samples, ${signs.filter((e) => !e.correct).length} wrong$`),
      );
      const asked = h.host.received.filter((m) => m.type === 'evalSamples');
      assert.equal(asked.at(-1)?.dataset, 'signs');

      await page.click('button.cell[data-checkpoint=step-3][data-mode=textual][data-dataset=all]');
      await page.waitForFunction(() => document.querySelector('[data-role=eval-samples-title]')?.textContent?.startsWith('step-3 · all'));
      const full = evals.filter((e) => e.checkpoint === 'step-3' && e.mode === 'textual');
      assert.deepEqual(new Set(full.map((e) => e.promptId.split('/')[0])), new Set(['shapes', 'signs']));
      assert.deepEqual(
        await page.$$eval('.sample-list tr.sample', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.id)),
        full.map((e) => e.id),
      );
      assert.equal(h.host.received.filter((m) => m.type === 'evalSamples').at(-1)?.dataset, null);
      assert.deepEqual(h.problems, []);
    },
  );
});
