/**
 * The Try prompt box and the engine labels of evaluation results, in Chromium against the harness.
 * The harness answers a Try prompt with the model text of a real ONNX Runtime run, recorded in
 * fixtures/try-prompt-recorded.json (a fixture: see its `recorded` note and
 * fixtures/record-try-prompt.ts), turned into the panel's result by the extension's own
 * `tryResultOf` for whichever image the panel asked about.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { TryPromptRequest, TryPromptResult } from '../../src/core/protocol/webview';
import { summarizeEval } from '../../src/core/stats';
import { parseTrace } from '../../src/core/trace';
import type { GeneratedSample, ModelInfo } from '../../src/engine/engine';
import { tryResultOf } from '../../src/extension/try-prompt';
import { promptInput, promptMessages } from '../../src/worker/prompts';
import { writeFixtureRun, XSS } from './harness/fixture';
import type { Harness } from './harness/panel';
import { panelSuite, setSelect, shot, skip, tab } from './harness/suite';

interface Recorded {
  recorded: string;
  convention: ModelInfo['coordConvention'];
  kind: TryPromptRequest['kind'];
  question: string;
  checkpoint: number;
  sample: Pick<GeneratedSample, 'text' | 'promptTokens' | 'completionTokens' | 'finish'>;
  seconds: number;
}
const recorded = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'try-prompt-recorded.json'), 'utf8')) as Recorded;

const tryState = (page: Page, state: string) =>
  page.waitForFunction((s) => document.querySelector('[data-role=try-status]')?.getAttribute('data-state') === s, state, {
    timeout: 10_000,
  });
const tryStatus = (page: Page) => page.locator('[data-role=try-status]').innerText();
const lastTry = (h: Harness) => h.host.received.filter((m): m is TryPromptRequest => m.type === 'tryPrompt').at(-1);

describe('Try prompt and engine labels', { skip }, () => {
  const panel = panelSuite(
    'ivgr-try-',
    async (root) => {
      const fx = await writeFixtureRun(root, { steps: 3, prompts: 3, samples: 2, bigImage: false });
      // The same checkpoint evaluated again on ONNX Runtime: its rows sit beside PyTorch's.
      const ortEvals = fx.evals
        .filter((e) => e.checkpoint === 'step-6')
        .map((e) => ({ ...e, id: `ort-${e.id}`, engine: 'ort' as const, correct: !e.correct }));
      appendFileSync(join(fx.runDir, 'events', 'eval.jsonl'), ortEvals.map((e) => JSON.stringify(e)).join('\n') + '\n');
      writeFileSync(
        join(fx.runDir, 'eval-summary.json'),
        JSON.stringify({ v: 1, split: 'val', rows: summarizeEval([...fx.evals, ...ortEvals]) }),
      );
      return { ...fx, ortEvals };
    },
    { ready: (page) => page.waitForSelector('.chart canvas') },
  );

  panel.test('evaluation cells, sample lists and samples name the engine that produced them', async ({ page, h, fx: { ortEvals } }) => {
    await tab(page, 'eval');
    await page.waitForSelector('table.summary');
    assert.equal(await page.locator('table.summary tbody tr[data-checkpoint=step-6]').count(), 2, 'one row per engine');
    const torchCell = page.locator('button.cell[data-checkpoint=step-6][data-mode=grounded][data-engine=torch]');
    const ortCell = page.locator('button.cell[data-checkpoint=step-6][data-mode=grounded][data-engine=ort]');
    assert.match(await torchCell.innerText(), /PyTorch/);
    assert.match(await ortCell.innerText(), /ONNX Runtime/);
    await ortCell.click();
    await page.waitForSelector('.sample-list tr.sample');
    const sent = h.host.received.filter((m) => m.type === 'evalSamples').at(-1);
    assert.deepEqual(sent && { checkpoint: sent.checkpoint, mode: sent.mode, engine: sent.engine }, {
      checkpoint: 'step-6',
      mode: 'grounded',
      engine: 'ort',
    });
    const rows = await page.$$eval('.sample-list tr.sample', (trs) =>
      trs.map((tr) => [(tr as HTMLElement).dataset.id, tr.querySelector('td.engine')?.textContent]),
    );
    assert.deepEqual(
      rows,
      ortEvals.filter((e) => e.mode === 'grounded').map((e) => [e.id, 'ONNX Runtime']),
      'only the ORT samples, each labelled',
    );
    assert.match(await page.locator('[data-role=eval-samples-title]').innerText(), /ONNX Runtime/);
    await page.click('.sample-list tr.sample >> nth=0');
    await page.waitForSelector('.detail[data-kind=eval] [data-fact=engine]');
    assert.equal(await page.locator('.detail [data-fact=engine]').innerText(), 'engine ONNX Runtime');
    await shot(page, '21-eval-engines');
  });

  panel.test(
    'a question about the shown image is sent, shows progress while busy, and its answer is drawn like a rollout',
    async ({ page, h, fx }) => {
      await tab(page, 'rollouts');
      const row = page.locator('.list .row[data-stream=grounded]').first();
      await row.waitFor();
      const rolloutId = (await row.getAttribute('data-id'))!;
      await row.click();
      await page.waitForSelector(`.detail[data-id="${rolloutId}"][data-kind=rollout]`);
      const rollout = fx.rollouts.find((r) => r.id === rolloutId)!;
      const prompt = fx.prompts.find((p) => p.id === rollout.promptId)!;
      assert.match(await tryStatus(page), /^$/, 'ready, no message');

      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let result: TryPromptResult | undefined;
      h.host.tryPrompt = async (m, progress) => {
        progress(`Exporting step ${m.checkpoint} to ONNX…`);
        await gate;
        result = tryResultOf(recorded.sample, {
          engine: 'ort',
          convention: recorded.convention,
          checkpoint: m.checkpoint ?? 6,
          kind: m.kind,
          image: m.image,
          imageSize: { width: prompt.width, height: prompt.height },
          input: promptInput(promptMessages(m.kind, { question: m.question })),
          seconds: recorded.seconds,
        });
        return result;
      };
      await page.locator('#try-question').locator('textarea').fill(recorded.question);
      await setSelect(page, 'try-kind', recorded.kind);
      await setSelect(page, 'try-checkpoint', '3');
      await page.click('#try-run');
      await tryState(page, 'busy');
      await page.waitForFunction(() => document.querySelector('[data-role=try-status]')?.textContent?.includes('Exporting step 3 to ONNX'));
      assert.equal(await page.$eval('#try-run', (b) => b.hasAttribute('disabled')), true, 'no second question while one runs');
      assert.equal(await page.$eval('#try-cancel', (b) => (b as HTMLElement).hidden), false);
      await shot(page, '22-try-prompt-busy');
      assert.deepEqual(lastTry(h), {
        type: 'tryPrompt',
        requestId: lastTry(h)!.requestId,
        image: rollout.image,
        question: recorded.question,
        kind: recorded.kind,
        checkpoint: 3,
      });

      release();
      await page.waitForSelector('.detail[data-kind=try] .trace');
      await tryState(page, 'done');
      const r = result!;
      assert.ok(r.boxes.length > 0, 'the recorded grounded answer cites boxes');
      assert.deepEqual(
        r.boxes,
        parseTrace(recorded.sample.text, { convention: recorded.convention, original: { width: prompt.width, height: prompt.height } })
          .boxes,
      );
      assert.equal(await page.locator('.detail .trace .seg.box').count(), r.boxes.length, 'each box of the trace is a highlighted span');
      assert.equal(await page.locator('.overlay g.box.predicted').count(), r.boxes.length, 'and a box on the image');
      assert.equal(await page.locator('.overlay g.box.evidence').count(), 0, "the dataset's evidence answers another question");
      assert.equal(await page.locator('.detail .trace').innerText(), recorded.sample.text);
      assert.match(await page.locator('.img-status').innerText(), new RegExp(`^${prompt.width}×${prompt.height}`), 'the same image');
      assert.equal(await page.locator('.detail [data-fact=engine]').innerText(), 'engine ONNX Runtime');
      assert.equal(await page.locator('.detail [data-fact=checkpoint]').innerText(), 'checkpoint step 3');
      assert.equal(await page.$eval('.annotate', (f) => (f as HTMLElement).hidden), true, 'an answer of the box is not annotated');
      // Hover linking works as for rollouts.
      await page.hover('.seg.box[data-key=p0]');
      await page.waitForSelector('.overlay g.box.predicted.hot[data-key=p0]');
      await shot(page, '23-try-prompt-answer');

      await page.click('#try-back');
      await page.waitForSelector(`.detail[data-id="${rolloutId}"][data-kind=rollout]`);
      assert.equal(await page.$eval('.annotate', (f) => (f as HTMLElement).hidden), false);
      h.host.tryPrompt = null;
    },
  );

  panel.test('an engine error is shown in the box, which can be used again', async ({ page, h }) => {
    const message =
      'ort engine: the cuda execution provider is not available in this onnxruntime-node (it has cpu); set ivgr.ort.provider to cpu';
    h.host.tryPrompt = () => Promise.reject(new Error(message));
    await page.click('#try-run');
    await tryState(page, 'error');
    assert.equal(await tryStatus(page), message);
    assert.equal(await page.locator('.errors').innerText(), '', 'shown once, in the box');
    assert.equal(await page.$eval('#try-run', (b) => b.hasAttribute('disabled')), false);
    assert.equal(await page.$eval('#try-cancel', (b) => (b as HTMLElement).hidden), true);
    await shot(page, '24-try-prompt-error');
  });

  panel.test('a blank question is explained in place and not sent', async ({ page, h }) => {
    const before = h.host.received.length;
    await page.locator('#try-question').locator('textarea').fill('  \n ');
    await page.click('#try-run');
    await tryState(page, 'error');
    assert.equal(await tryStatus(page), 'Question: expected a question, got only blanks');
    assert.equal(h.host.received.slice(before).filter((m) => m.type === 'tryPrompt').length, 0);
  });

  panel.test('Cancel stops a running question', async ({ page, h }) => {
    h.host.tryPrompt = (_m, progress, signal) =>
      new Promise((_resolve, reject) => {
        progress('Generating…');
        signal.addEventListener('abort', () => reject(signal.reason as Error));
      });
    await page.locator('#try-question').locator('textarea').fill('Is there a sign?');
    await page.click('#try-run');
    await tryState(page, 'busy');
    await page.click('#try-cancel');
    await tryState(page, 'error');
    assert.equal(await tryStatus(page), 'cancelled');
    assert.equal(h.host.received.at(-1)?.type, 'cancelTryPrompt');
  });

  panel.test('model text with script payloads in an answer is shown as text and never runs', async ({ page, h }) => {
    // Crafted, not recorded: the recorded answer with a payload appended.
    const text = `${recorded.sample.text}${XSS[1]}${XSS[0]}`;
    h.host.tryPrompt = (m) =>
      Promise.resolve(
        tryResultOf(
          { ...recorded.sample, text },
          {
            engine: 'ort',
            convention: recorded.convention,
            checkpoint: 6,
            kind: m.kind,
            image: m.image,
            imageSize: { width: 640, height: 480 },
            input: m.question,
            seconds: 0.1,
          },
        ),
      );
    await page.click('#try-run');
    await page.waitForFunction((t) => document.querySelector('.detail[data-kind=try] .trace')?.textContent === t, text);
    assert.equal(await page.$$eval('.trace script, .trace img, .trace iframe', (e) => e.length), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(h.problems, [], 'no dialogs, page errors or CSP violations');
  });
});
