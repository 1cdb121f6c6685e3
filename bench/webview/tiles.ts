/**
 * Large images in the panel (src/extension/image-cache.ts), cold cache every time: an 8K image's
 * 1280 px thumbnail, then the tiles of a 1400×360 view at 1:1 about its centre made two at a time
 * as the panel host does (first tile, view filled), and, for comparison, the full-size rescale of
 * the whole image that zooming used to ask for. Two images: the panel fixture's drawn PNG and a
 * photo-like JPEG (blurred noise, quality 90).
 * Run: node --import tsx bench/webview/tiles.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { tilesForView } from '../../src/core/tiles';
import { serveImage, serveTile } from '../../src/extension/panel/image-cache';
import { TileQueue } from '../../src/extension/panel/tile-queue';
import { writeFixtureRun } from '../../test/webview/harness/fixture';

// Every run starts cold: no libvips operation cache carried from the previous one.
sharp.cache(false);
const RUNS = 3;
const SIZE = { width: 7680, height: 4320 };
const VIEWPORT = { width: 1400, height: 360 };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function once(
  source: string,
  root: string,
): Promise<{ thumbnail: number; firstTile: number; view: number; tiles: number; fullSize: number }> {
  const cache = mkdtempSync(join(root, 'cache-'));
  try {
    let t = performance.now();
    await serveImage(source, cache, 1280);
    const thumbnail = performance.now() - t;
    const want = tilesForView(
      SIZE,
      { scale: 1, tx: VIEWPORT.width / 2 - SIZE.width / 2, ty: VIEWPORT.height / 2 - SIZE.height / 2 },
      VIEWPORT,
      1,
      1280,
    )!;
    const queue = new TileQueue();
    let firstTile = NaN;
    t = performance.now();
    await Promise.all(
      want.tiles.map(
        (tile, i) =>
          new Promise<void>((done, fail) =>
            queue.add(i, () =>
              serveTile(source, cache, tile).then(() => {
                if (Number.isNaN(firstTile)) firstTile = performance.now() - t;
                done();
              }, fail),
            ),
          ),
      ),
    );
    const view = performance.now() - t;
    t = performance.now();
    await serveImage(source, cache, 7680);
    return { thumbnail, firstTile, view, tiles: want.tiles.length, fullSize: performance.now() - t };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

const root = mkdtempSync(join(tmpdir(), 'ivgr-bench-tiles-'));
try {
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, sharp ${sharp.versions.sharp}, ${new Date().toISOString().slice(0, 10)}`,
  );
  const fx = await writeFixtureRun(join(root, 'fixture'), { steps: 1, prompts: 1, samples: 1, bigImage: true });
  const photo = join(root, 'photo.jpg');
  await sharp({ create: { ...SIZE, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .blur(1.5)
    .jpeg({ quality: 90 })
    .toFile(photo);
  for (const [name, source] of [
    ['drawn PNG', join(fx.datasetDir, fx.prompts[0]!.image)],
    ['photo-like JPEG', photo],
  ] as const) {
    const runs: Array<Awaited<ReturnType<typeof once>>> = [];
    for (let i = 0; i < RUNS; i++) runs.push(await once(source, root));
    const m = (k: 'thumbnail' | 'firstTile' | 'view' | 'fullSize') => Math.round(median(runs.map((r) => r[k])));
    console.log(
      `${name} 7680×4320: thumbnail ${m('thumbnail')} ms, first tile ${m('firstTile')} ms, view of ${runs[0]!.tiles} tiles ${m('view')} ms, old full-size rescale ${m('fullSize')} ms (median of ${RUNS}, cold cache)`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
