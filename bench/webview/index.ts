/**
 * Panel benchmarks: the query service over 100k and 1M rollouts (index build, tail answer, reopen
 * from the saved index, pages, sorts, text search), the panel in Chromium (first paint, first rows
 * and exact total on first open and on reopen, scroll frame times, page memory), and how many live
 * rollouts per second the panel absorbs. `IVGR_BENCH_ROWS=100000` limits the sizes.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import type { RolloutRow } from '../../src/core/protocol/webview';
import { RolloutQueryService } from '../../src/run/rollout-query';
import { writeFixtureRun, writeManyRollouts } from '../../test/webview/harness/fixture';
import { chromiumAvailable, openPanel, type Harness } from '../../test/webview/harness/panel';

const sizes = (process.env.IVGR_BENCH_ROWS ?? '100000,1000000').split(',').map(Number);
const ms = (t0: number) => Math.round(performance.now() - t0);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function benchService(runDir: string, n: number): Promise<void> {
  const cacheFile = join(runDir, 'cache', 'rollout-index.bin');
  rmSync(join(runDir, 'cache'), { recursive: true, force: true });
  let t = performance.now();
  const tail = await new RolloutQueryService(runDir).newestPage({}, { key: 'step', dir: 'desc' }, 0, 100);
  const tailMs = ms(t);
  if (!tail) throw new Error('the tail gave no answer for the default view');
  const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  t = performance.now();
  const s = new RolloutQueryService(runDir);
  await s.refresh();
  const build = ms(t);
  const heap = (process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heap0) / 2 ** 20;
  t = performance.now();
  const reopened = new RolloutQueryService(runDir);
  await reopened.refresh();
  await reopened.query({}, { key: 'step', dir: 'desc' }, 0, 100);
  const reopen = ms(t);
  if (reopened.total !== n || reopened.warnings.length > 0)
    throw new Error(`reopen from the cache: ${reopened.total} rollouts, ${reopened.warnings.join('; ')}`);
  console.log(
    `service ${n.toLocaleString('en-US')} rollouts: first page from the tail ${tailMs} ms (total estimated ${tail.total}), ` +
      `index build + save ${build} ms, reopen from the cache (${(statSync(cacheFile).size / 2 ** 20).toFixed(1)} MiB) + first page ${reopen} ms`,
  );
  t = performance.now();
  await s.query({}, { key: 'step', dir: 'desc' }, 0, 100);
  const first = ms(t);
  t = performance.now();
  await s.query({}, { key: 'step', dir: 'desc' }, Math.floor(n / 2), 100);
  const middle = ms(t);
  t = performance.now();
  await s.query({}, { key: 'score', dir: 'desc' }, 0, 100);
  const sortScore = ms(t);
  t = performance.now();
  await s.query({ stream: 'grounded', correct: false, rewardMin: 0.5 }, { key: 'advantage', dir: 'asc' }, 0, 100);
  const filtered = ms(t);
  t = performance.now();
  const found = await s.query({ text: 'zoom_in' }, { key: 'step', dir: 'desc' }, 0, 100);
  const search = ms(t);
  t = performance.now();
  await s.get(`r${Math.floor(n / 3)}-g`);
  const getMiss = ms(t);
  console.log(
    `service ${n.toLocaleString('en-US')} rollouts (${(statSync(join(runDir, 'events', 'rollouts.jsonl')).size / 2 ** 20).toFixed(0)} MiB): index ${build} ms, index memory ≈${heap.toFixed(0)} MiB, ` +
      `first page ${first} ms, middle page ${middle} ms, sort by score ${sortScore} ms, filter+sort ${filtered} ms, text search ${search} ms (${found.total} hits), get by id (scan) ${getMiss} ms`,
  );
}

/**
 * Opens a fresh harness (a new service, as a new window would) straight on the rollout browser,
 * as a restored panel would: the index build starts with the reload. Times the first rows and the
 * exact total.
 */
async function openTimed(runDir: string, datasetDir: string): Promise<{ h: Harness; rowsMs: number; exactMs: number }> {
  const h = await openPanel(runDir, datasetDir, { width: 1400, height: 900, holdIndex: true });
  const page = h.page;
  await page.evaluate(() => sessionStorage.setItem('ivgr-harness-state', JSON.stringify({ v: 1, tab: 'rollouts' })));
  const t0 = Date.now();
  h.releaseIndex();
  await page.reload();
  await page.waitForFunction(() => document.querySelector('.list .row:not(.loading):not([hidden])') !== null, undefined, {
    timeout: 120_000,
    polling: 16,
  });
  const rowsMs = Date.now() - t0;
  await page.waitForFunction(() => (document.querySelector('.browser') as HTMLElement).dataset.total !== undefined, undefined, {
    timeout: 120_000,
    polling: 16,
  });
  return { h, rowsMs, exactMs: Date.now() - t0 };
}

async function benchPanel(runDir: string, datasetDir: string, n: number): Promise<void> {
  rmSync(join(runDir, 'cache'), { recursive: true, force: true });
  const cold = await openTimed(runDir, datasetDir);
  await cold.h.close();
  const { h, rowsMs, exactMs } = await openTimed(runDir, datasetDir);
  try {
    const page = h.page;
    const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
    const scroll = (mode: 'smooth' | 'jump') =>
      page.evaluate(async (m) => {
        const list = document.querySelector('.list') as HTMLElement;
        const frames: number[] = [];
        let last = performance.now();
        for (let i = 0; i < 240; i++) {
          if (m === 'smooth') list.scrollTop += 900;
          else list.scrollTop = Math.random() * list.scrollHeight;
          await new Promise((r) => requestAnimationFrame(r));
          const now = performance.now();
          frames.push(now - last);
          last = now;
        }
        return frames;
      }, mode);
    const smooth = await scroll('smooth');
    const jump = await scroll('jump');
    await page.waitForTimeout(300);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const metrics = (await cdp.send('Performance.enable'), await cdp.send('Performance.getMetrics')).metrics;
    const heap = (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN) / 2 ** 20;
    const nodes = metrics.find((m) => m.name === 'Nodes')?.value ?? NaN;
    console.log(
      `panel ${n.toLocaleString('en-US')} rollouts: first open (no cache): first rows ${cold.rowsMs} ms, exact total ${cold.exactMs} ms after reload; ` +
        `reopen (cache): first rows ${rowsMs} ms, exact total ${exactMs} ms, first contentful paint ${fcp.toFixed(0)} ms, ` +
        `scroll frames smooth p50 ${pct(smooth, 50).toFixed(1)} / p95 ${pct(smooth, 95).toFixed(1)} / max ${Math.max(...smooth).toFixed(1)} ms, ` +
        `random jumps p50 ${pct(jump, 50).toFixed(1)} / p95 ${pct(jump, 95).toFixed(1)} / max ${Math.max(...jump).toFixed(1)} ms, JS heap ${heap.toFixed(1)} MiB, DOM nodes ${nodes}`,
    );
    if (n === sizes[0]) await benchLive(h.page, h.host.service.total);
  } finally {
    await h.close();
  }
}

/** Live absorption: one `liveRollouts` message per rollout (the worst case), as fast as the page takes them. */
async function benchLive(page: import('playwright-core').Page, base: number): Promise<void> {
  const row = (i: number): RolloutRow => ({
    id: `live-${i}`,
    step: 9999,
    stream: i % 2 ? 'textual' : 'grounded',
    promptId: 'q1',
    sample: i % 4,
    score: 1,
    advantage: 0,
    correct: true,
    answer: 'A',
    boxes: 1,
    preview: '<think>live</think>',
    tags: [],
  });
  const total = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < total; i += 500) {
    const batch = Array.from({ length: 500 }, (_, k) => ({ type: 'liveRollouts' as const, count: base + i + k + 1, latest: [row(i + k)] }));
    await page.evaluate((ms) => {
      for (const m of ms) window.postMessage(m, '*');
    }, batch);
  }
  await page.waitForFunction((want) => document.body.dataset.liveMessages === String(want), total, { timeout: 120_000 });
  const s = (performance.now() - t0) / 1000;
  const count = await page.evaluate(() => Number(document.body.dataset.liveCount));
  console.log(
    `live: ${total} messages of 1 rollout absorbed in ${s.toFixed(2)} s = ${Math.round(total / s).toLocaleString('en-US')} rollouts/s, none dropped: ${count === base + total}`,
  );
}

const root = mkdtempSync(join(tmpdir(), 'ivgr-bench-webview-'));
try {
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  for (const n of sizes) {
    const dir = join(root, String(n));
    const fx = await writeFixtureRun(dir, { steps: 2, prompts: 4, samples: 2, bigImage: false });
    mkdirSync(join(fx.runDir, 'events'), { recursive: true });
    const t = performance.now();
    await writeManyRollouts(join(fx.runDir, 'events', 'rollouts.jsonl'), n);
    console.log(`wrote ${n.toLocaleString('en-US')} rollouts in ${ms(t)} ms`);
    await benchService(fx.runDir, n);
    if (chromiumAvailable()) await benchPanel(fx.runDir, fx.datasetDir, n);
    else console.log('panel: skipped (needs /usr/bin/chromium and npm run build)');
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
