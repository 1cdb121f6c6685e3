/**
 * The packaged extension in real VS Code (code-server) driven through Chromium: the stages a user
 * goes through, each leaving a screenshot in test-artifacts/e2e/. Skips only when code-server is not
 * installed (`node scripts/code-server.mjs install`; CI does it in .ci/run).
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeServerEntry } from '../../scripts/code-server.mjs';
import { openStudio, type StudioSession } from './studio-session';
import { paletteCommands } from './workbench';

const installed = codeServerEntry() !== null;
const skip = installed ? false : 'code-server is not installed: run `node scripts/code-server.mjs install` (CI does it in .ci/run)';

/** A run small enough to finish a few steps on CPU in seconds: built-in tiny model, small synthetic set. */
const TINY_CONFIG = `name: e2e-tiny
model: builtin:tiny
device: cpu
dataset:
  path: data/synthetic
synthetic:
  seed: 7
  counts: { train: 16, val: 8, test: 8 }
  size: 112
`;

describe('iVGR Studio in code-server', { skip, timeout: 6 * 60_000 }, () => {
  let studio: StudioSession;
  let failed = false;

  /** Runs one stage; after a failure the later stages, which build on it, are skipped. */
  async function stage(t: TestContext, name: string, body: () => Promise<void>): Promise<void> {
    if (failed) return t.skip('an earlier stage failed');
    try {
      await body();
      await studio.screenshot(name);
    } catch (e) {
      failed = true;
      await studio.screenshot(`${name}-failed`).catch(() => undefined);
      throw e;
    }
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
      const commands = await paletteCommands(studio.page, 'iVGR:');
      assert.ok(commands.includes('iVGR: Start Training Run'), `palette lists: ${commands.join(' | ')}`);
    });
  });
});
