/**
 * The packaged extension in real VS Code (code-server) driven through Chromium: the stages a user
 * goes through, each leaving a screenshot in test-artifacts/e2e/. Skips only when code-server is not
 * installed (`node scripts/code-server.mjs install`; CI does it in .ci/run).
 */
import { after, before, describe, it, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { codeServerEntry } from '../../scripts/code-server.mjs';
import { openStudio, type StudioSession } from './studio-session';
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
  const pickRun = () => pickQuickItem(studio.page, RUN_NAME);

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
});
