/**
 * The packaged extension in real VS Code (code-server) driven through Chromium: the stages a user
 * goes through, each leaving a screenshot in test-artifacts/e2e/. Skips only when code-server is not
 * installed (`node scripts/code-server.mjs install`; CI does it in .ci/run).
 */
import { after, before, describe, it, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator } from 'playwright-core';
import sharp from 'sharp';
import { codeServerEntry } from '../../scripts/code-server.mjs';
import { openStudio, repoRoot, type StudioSession } from './studio-session';
import { notifications, paletteCommands, pickQuickItem, runCommand, statusBar, until, view, webviewContent } from './workbench';

const installed = codeServerEntry() !== null;
const MISSING = 'code-server is not installed: run `node scripts/code-server.mjs install` (CI does it in .ci/run)';
// A developer without code-server skips the suite; under CI, which installs it, its absence fails.
const skip = installed ? false : MISSING;
if (!installed && process.env.CI) {
  test('code-server is installed for the end-to-end suite', () => assert.fail(MISSING));
}

const RUN_NAME = 'e2e-tiny';
/**
 * A run small enough for a shared CPU: the built-in tiny model, a small synthetic set, two samples
 * per stream. Enough steps that it is still training while the test pauses, resumes and reloads.
 */
const TINY_CONFIG = `name: ${RUN_NAME}
model: builtin:tiny
device: cpu
dataset:
  path: data/synthetic
synthetic:
  seed: 7
  counts: { train: 16, val: 6, test: 6 }
  size: 112
streams:
  grounded: { groupSize: 2 }
  textual: { groupSize: 2 }
batchSize: 2
maxTokens: 32
steps: 200
checkpointEvery: 2
`;

const VERL_RUN = 'verl-live';

/** A verl dump line (`_dump_generations`) whose prompt was decoded with its special tokens. */
function verlLine(step: number, answer: string, score: number): string {
  const input = `<|im_start|>user\n<|vision_start|>${'<|image_pad|>'.repeat(16)}<|vision_end|>Where is the red car?<|im_end|>\n<|im_start|>assistant\n`;
  const output = `<think>the car <|box_start|>(100,200),(400,600)<|box_end|></think><answer>${answer}</answer>`;
  return JSON.stringify({ input, output, gts: 'left', score, step }) + '\n';
}

function lineCount(file: string): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;
}

describe('iVGR Studio in code-server', { skip, timeout: 8 * 60_000 }, () => {
  let studio: StudioSession;
  let failed = false;
  let panel: FrameLocator;

  /**
   * Runs one stage; after a failure the later stages, which build on it, are skipped. The later
   * stages do not depend on an `independent` stage, so its failure does not skip them.
   */
  async function stage(t: TestContext, name: string, body: () => Promise<void>, opts: { independent?: boolean } = {}): Promise<void> {
    if (failed) return t.skip('an earlier stage failed');
    try {
      await body();
      await studio.screenshot(name);
    } catch (e) {
      if (!opts.independent) failed = true;
      await studio.screenshot(`${name}-failed`).catch(() => undefined);
      const errors = studio.extensionErrors();
      if (errors.length > 0)
        throw new Error(`${name}: ${(e as Error).message}\nextension errors in the browser console:\n${errors.join('\n')}`, { cause: e });
      throw e;
    }
  }

  function runDir(): string {
    const runs = join(studio.workspace, 'runs');
    const dirs = existsSync(runs) ? readdirSync(runs).filter((d) => d.startsWith(RUN_NAME)) : [];
    assert.equal(dirs.length, 1, `one run folder under ${runs}, found: ${dirs.join(', ')}`);
    return join(runs, dirs[0]!);
  }

  const rolloutsFile = () => join(runDir(), 'events', 'rollouts.jsonl');

  /** The rollout count the panel's Rollouts tab shows (its list keeps it in data-total). */
  async function panelRolloutCount(): Promise<number> {
    const total = await panel.locator('.browser').getAttribute('data-total', { timeout: 5_000 });
    return total === null ? 0 : Number(total);
  }

  async function openPanelTab(label: string): Promise<void> {
    panel = await webviewContent(studio.page, new RegExp(`iVGR: .*${RUN_NAME}`));
    await panel.locator('vscode-tab-header', { hasText: label }).click();
  }

  /**
   * Clicks the top rollout and waits until the detail shows it, so nothing typed next lands in the
   * form of the rollout shown before.
   */
  async function showFirstRollout(): Promise<void> {
    const row = panel.locator('.list [role=option]:not(.loading)').first();
    const id = await until('a filled top row', async () => (await row.getAttribute('data-id')) || undefined);
    await panel.locator(`.list [role=option][data-id="${id}"]`).click();
    await panel.locator(`.detail[data-id="${id}"]`).waitFor();
  }

  /** Answers the run quick pick that pause/resume/stop/evaluate show. */
  /**
   * Run commands act on the run of the focused run panel without asking; with another part of the
   * window focused they ask which run. Picks the run when asked.
   */
  async function pickRun(): Promise<void> {
    const row = studio.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: RUN_NAME }).first();
    const asked = await row.waitFor({ state: 'visible', timeout: 10_000 }).then(
      () => true,
      () => false,
    );
    if (asked) await row.click();
  }

  /** The Runs view shows `status` on the run's row, and so does the status bar unless the run has ended (it hides then). */
  async function expectStatus(status: RegExp, opts: { inStatusBar: boolean }): Promise<void> {
    if (opts.inStatusBar) await statusBar(studio.page).getByText(status).first().waitFor({ timeout: 120_000 });
    await runCommand(studio.page, 'iVGR: Focus on Runs View');
    await view(studio.page, 'Runs')
      .locator('.monaco-list-row', { hasText: RUN_NAME })
      .filter({ hasText: status })
      .first()
      .waitFor({ timeout: 60_000 });
  }

  before(async () => {
    studio = await openStudio({ populateWorkspace: (dir) => writeFileSync(join(dir, 'tiny.ivgr.yaml'), TINY_CONFIG) });
  });

  after(async () => {
    await studio?.close();
  });

  it('opens the workspace with the extension installed and its commands in the palette', async (t) => {
    await stage(t, '01-workbench', async () => {
      await studio.page.locator('.explorer-folders-view').getByText('tiny.ivgr.yaml').waitFor();
      const commands = await until('iVGR commands in the palette', async () => {
        const listed = await paletteCommands(studio.page, 'iVGR:');
        return listed.includes('iVGR: Start Training Run') ? listed : undefined;
      });
      assert.ok(commands.includes('iVGR: Open Run'), `palette lists: ${commands.join(' | ')}`);
    });
  });

  it('starts a training run from the palette and streams rollouts into the panel', async (t) => {
    await stage(t, '02-rollouts', async () => {
      await runCommand(studio.page, 'iVGR: Start Training Run');
      await pickQuickItem(studio.page, 'tiny.ivgr.yaml');
      await openPanelTab('Rollouts');
      await until('rollouts in the panel', async () => ((await panelRolloutCount()) > 0 ? true : undefined), 180_000);
      await panel.locator('.list [role=option]').first().waitFor();
      assert.ok(lineCount(rolloutsFile()) > 0, 'rollouts.jsonl has records');
    });
  });

  it('draws box overlays on the rollout image', async (t) => {
    await stage(
      t,
      '03-boxes',
      async () => {
        await showFirstRollout();
        const image = panel.locator('.image-view img');
        await until('the rollout image to load', async () =>
          (await image.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)) ? true : undefined,
        );
        // Evidence boxes come from the dataset record, so every synthetic question has at least one.
        const boxes = panel.locator('.image-view svg.overlay rect');
        await boxes.first().waitFor();
        assert.ok((await boxes.count()) > 0);
      },
      { independent: true },
    );
  });

  it('pauses the run: the status bar and the Runs view say paused', async (t) => {
    await stage(t, '04-paused', async () => {
      await runCommand(studio.page, 'iVGR: Pause Run');
      await pickRun();
      await expectStatus(/paused/, { inStatusBar: true });
    });
  });

  it('resumes the run', async (t) => {
    await stage(t, '05-resumed', async () => {
      const before = lineCount(rolloutsFile());
      await runCommand(studio.page, 'iVGR: Resume Run');
      await pickRun();
      await statusBar(studio.page)
        .getByText(/iVGR \d+\/\d+/)
        .first()
        .waitFor({ timeout: 60_000 });
      await until('new rollouts after resuming', async () => (lineCount(rolloutsFile()) > before ? true : undefined), 120_000);
    });
  });

  it('re-attaches the panel after a window reload with no lost rollouts', async (t) => {
    await stage(
      t,
      '06-reloaded',
      async () => {
        const before = lineCount(rolloutsFile());
        await runCommand(studio.page, 'Developer: Reload Window');
        await studio.page.locator('.monaco-workbench').waitFor();
        await openPanelTab('Rollouts');
        // The run keeps writing while the window reloads: the panel must catch up with the file exactly.
        const shown = await until(
          'the panel to show every rollout in rollouts.jsonl',
          async () => {
            const inFile = lineCount(rolloutsFile());
            const inPanel = await panelRolloutCount();
            return inPanel === inFile && inFile >= before ? inPanel : undefined;
          },
          120_000,
        );
        assert.ok(shown >= before);
        await until('live rollouts after the reload', async () => ((await panelRolloutCount()) > shown ? true : undefined), 120_000);
        // The run itself lives on whatever the window does, so the stages after this one still apply.
      },
      { independent: true },
    );
  });

  it('stops the run', async (t) => {
    await stage(t, '07-stopped', async () => {
      await runCommand(studio.page, 'iVGR: Stop Run');
      await pickRun();
      await studio.page.locator('.monaco-dialog-box').getByRole('button', { name: 'Stop' }).click();
      await expectStatus(/stopped/, { inStatusBar: false });
    });
  });

  it('evaluates a checkpoint in three modes and shows the table', async (t) => {
    await stage(t, '08-evaluation', async () => {
      await runCommand(studio.page, 'iVGR: Evaluate Checkpoint');
      await pickRun();
      await pickQuickItem(studio.page, /^step \d+/);
      await pickQuickItem(studio.page, /^val/);
      // Modes: a multi-select with all three ticked by default.
      await studio.page.locator('.quick-input-widget').getByRole('button', { name: 'OK' }).click();
      await pickQuickItem(studio.page, /^PyTorch/);
      const done = studio.page.locator('.notifications-toasts').getByText(/evaluation of step \d+ finished/);
      await done.waitFor({ timeout: 180_000 });
      await studio.page.locator('.notifications-toasts').getByRole('button', { name: 'Open Run' }).click();
      await openPanelTab('Evaluation');
      const table = panel.locator('.eval-table table.summary');
      await table.waitFor();
      const headers = (await table.locator('thead th').allInnerTexts()).map((h) => h.trim());
      assert.deepEqual(headers, ['checkpoint', 'textual', 'mandated grounded', 'tool-assisted']);
      const row = table.locator('tbody tr', { has: panel.locator('th', { hasText: /^step-\d+$/ }) });
      // One accuracy per mode for the evaluated checkpoint, e.g. "0.0%".
      assert.equal(await row.getByText(/^\d+(\.\d+)?%$/).count(), 3, `notifications: ${(await notifications(studio.page)).join(' | ')}`);
    });
  });

  it('annotates a rollout and finds the record in events/annotations.jsonl', async (t) => {
    await stage(t, '09-annotation', async () => {
      await openPanelTab('Rollouts');
      await showFirstRollout();
      const note = `e2e note ${Date.now()}`;
      await panel.locator('vscode-textarea#annotation-note textarea').fill(note);
      await panel.locator('.tag-list vscode-checkbox').first().click();
      await panel.locator('vscode-button#save-annotation').click();
      const file = join(runDir(), 'events', 'annotations.jsonl');
      const record = await until('the annotation record', async () => {
        if (!existsSync(file)) return undefined;
        return readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as { note: string; tags: string[]; target: { kind: string; id: string } })
          .find((r) => r.note === note);
      });
      assert.equal(record.target.kind, 'rollout');
      assert.equal(record.tags.length, 1);
      await panel
        .getByText(/annotated /)
        .first()
        .waitFor();
    });
  });

  it('evaluates the checkpoint again on ONNX Runtime; the table names each engine', async (t) => {
    await stage(
      t,
      '10-evaluation-ort',
      async () => {
        await runCommand(studio.page, 'iVGR: Evaluate Checkpoint');
        await pickRun();
        await pickQuickItem(studio.page, /^step \d+/);
        await pickQuickItem(studio.page, /^val/);
        await studio.page.locator('.quick-input-widget').getByRole('button', { name: 'OK' }).click();
        await pickQuickItem(studio.page, /^ONNX Runtime/);
        const done = studio.page.locator('.notifications-toasts').getByText(/evaluation of step \d+ finished on ONNX Runtime/);
        await done.waitFor({ timeout: 180_000 });
        await openPanelTab('Evaluation');
        const cells = panel.locator('.eval-table button.cell[data-engine=ort]');
        await cells.first().waitFor({ timeout: 30_000 });
        assert.equal(await cells.count(), 3, `notifications: ${(await notifications(studio.page)).join(' | ')}`);
        assert.match(await cells.first().innerText(), /ONNX Runtime/);
        assert.ok((await panel.locator('.eval-table button.cell[data-engine=torch]').count()) > 0, 'the PyTorch row stays');
      },
      { independent: true },
    );
  });

  it('answers a Try prompt question on ONNX Runtime and draws it like a rollout', async (t) => {
    await stage(
      t,
      '11-try-prompt',
      async () => {
        await openPanelTab('Rollouts');
        await showFirstRollout();
        await panel.locator('vscode-textarea#try-question textarea').fill('What colour is the small object?');
        await panel.locator('vscode-button#try-run').click();
        await panel.locator('.detail[data-kind=try] .trace').waitFor({ timeout: 180_000 });
        assert.equal(await panel.locator('.detail [data-fact=engine]').innerText(), 'engine ONNX Runtime');
        assert.equal(await panel.locator('[data-role=try-status]').getAttribute('data-state'), 'done');
        assert.ok((await panel.locator('.detail .trace').innerText()).length > 0, 'the model wrote something');
      },
      { independent: true },
    );
  });

  it('follows a verl rollout_data_dir with its images: a new step streams into the panel, Qwen boxes drawn, no invented KL', async (t) => {
    await stage(
      t,
      '12-verl-follow',
      async () => {
        const verl = join(studio.workspace, 'verl');
        const steps = join(verl, 'rollouts');
        mkdirSync(join(verl, 'img'), { recursive: true });
        mkdirSync(steps);
        await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 30, g: 120, b: 200 } } })
          .png()
          .toFile(join(verl, 'img', 'street.png'));
        writeFileSync(
          join(verl, 'data.jsonl'),
          JSON.stringify({ id: 's1', question: 'Where is the red car?', image: 'img/street.png' }) + '\n',
        );
        writeFileSync(join(steps, '1.jsonl'), verlLine(1, 'left', 1) + verlLine(1, 'right', 0));
        const out = join(studio.workspace, 'runs', VERL_RUN);
        // As a verl user runs it in a terminal beside the trainer.
        const follower = spawn(
          process.execPath,
          [join(repoRoot, 'dist', 'cli.js'), 'import', steps, '--out', out, '--follow', '--images', join(verl, 'data.jsonl')],
          { cwd: studio.workspace, stdio: 'ignore' },
        );
        const exited = new Promise<number | null>((r) => follower.on('exit', (code) => r(code)));
        try {
          await until('the followed run', async () => (existsSync(join(out, 'control.sock')) ? true : undefined));
          await runCommand(studio.page, 'iVGR: Open Run');
          await pickQuickItem(studio.page, VERL_RUN);
          panel = await webviewContent(studio.page, new RegExp(`iVGR: .*${VERL_RUN}`));
          await panel.locator('vscode-tab-header', { hasText: 'Rollouts' }).click();
          await until('step 1 in the panel', async () => ((await panelRolloutCount()) === 2 ? true : undefined));
          writeFileSync(join(steps, '2.jsonl'), verlLine(2, 'left', 1));
          await until('step 2 streamed in while the panel is open', async () => ((await panelRolloutCount()) === 3 ? true : undefined));
          await showFirstRollout();
          assert.equal(await panel.locator('.detail [data-fact=expected]').innerText(), 'expected left', "verl's gts is the reference");
          const image = panel.locator('.image-view img');
          await until('the joined image to load', async () =>
            (await image.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)) ? true : undefined,
          );
          // (100,200),(400,600) on the 0..1000 grid of a 400x300 image.
          const box = panel.locator('.image-view svg.overlay g.box.predicted rect').first();
          await box.waitFor();
          assert.deepEqual(
            await box.evaluate((r) => ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a)))),
            [40, 60, 120, 120],
          );
          await panel.locator('vscode-tab-header', { hasText: 'Charts' }).click();
          await panel.locator('.chart[data-chart=reward] canvas').first().waitFor();
          for (const chart of ['kl', 'clip', 'length', 'tps'])
            assert.equal(await panel.locator(`.chart[data-chart=${chart}]`).isHidden(), true, `a dump has no ${chart} to chart`);
          follower.kill('SIGINT');
          assert.equal(await exited, 0);
          await runCommand(studio.page, 'iVGR: Focus on Runs View');
          await view(studio.page, 'Runs')
            .locator('.monaco-list-row', { hasText: VERL_RUN })
            .filter({ hasText: /stopped/ })
            .first()
            .waitFor();
        } finally {
          if (follower.exitCode === null && follower.signalCode === null) follower.kill('SIGKILL');
        }
      },
      { independent: true },
    );
  });

  it('compares the trained run with the imported one: curves overlaid by run, config differences, eval tables side by side', async (t) => {
    await stage(
      t,
      '13-compare-runs',
      async () => {
        await runCommand(studio.page, 'iVGR: Compare Runs');
        // The workspace holds two runs now, the trained one and the imported one: tick both.
        for (const run of [RUN_NAME, VERL_RUN]) {
          const box = studio.page.locator(`.quick-input-widget .quick-input-list .monaco-checkbox[aria-label="${run}"]`);
          await box.click();
          await studio.page
            .locator(`.quick-input-widget .quick-input-list .monaco-checkbox[aria-label="${run}"][aria-checked=true]`)
            .waitFor();
        }
        // The command takes the ticked runs in the list's order; the first one's panel opens on its
        // Runs tab with the other ticked.
        const first = (await studio.page
          .locator('.quick-input-widget .quick-input-list .monaco-list-row[data-index="0"] .monaco-checkbox')
          .getAttribute('aria-label'))!;
        await studio.page.locator('.quick-input-widget').getByRole('button', { name: 'OK' }).click();
        const title = `iVGR: ${first}`;
        await until(`the ${first} panel in front`, async () =>
          (await studio.page.locator('.tabs-container .tab.active').first().innerText()).trim() === title ? true : undefined,
        );
        panel = await webviewContent(studio.page, title);
        const compare = panel.locator('.runs-compare');
        const ids = await until('both runs in the comparison', async () => {
          const runs = (await compare.getAttribute('data-runs'))?.split(',') ?? [];
          return runs.length === 2 ? runs : undefined;
        }).catch(async (e: Error) => {
          throw new Error(`${e.message} (panel ${title}; notifications: ${(await notifications(studio.page)).join(' | ')})`, { cause: e });
        });
        assert.ok(ids.some((id) => id.startsWith(RUN_NAME)) && ids.includes(VERL_RUN), `compared: ${ids.join(', ')}`);
        const legend = await panel.locator('.runs-charts .chart[data-chart=reward] .u-legend .u-series .u-label').allInnerTexts();
        for (const run of [RUN_NAME, VERL_RUN])
          assert.ok(
            legend.some((l) => l.startsWith(run)),
            `the reward chart has a curve of ${run}: ${legend.join(' | ')}`,
          );
        assert.ok((await panel.locator('.config-diff tbody tr').count()) > 0, 'the config differences are listed');
        const headers = (await panel.locator('.runs-eval thead th').allInnerTexts()).map((h) => h.trim());
        const trained = headers.findIndex((h) => h.startsWith(RUN_NAME));
        const imported = headers.indexOf(VERL_RUN);
        assert.ok(trained >= 3 && imported >= 3, `one eval column per run: ${headers.join(' | ')}`);
        const row = panel.locator('.runs-eval tbody tr', { has: panel.locator('td', { hasText: /^step-\d+/ }) }).first();
        const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
        assert.match(cells[trained]!, /^\d+(\.\d+)?%/, `the trained run's own checkpoint: ${cells.join(' | ')}`);
        assert.equal(cells[imported], '–', 'the imported run evaluated nothing');
      },
      { independent: true },
    );
  });
});
