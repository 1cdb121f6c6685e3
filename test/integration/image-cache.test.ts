/**
 * The panel's image cache on a generated 8K image: the thumbnail, pyramid tiles (full-size inside,
 * clipped at the edges, the right pixels), reuse of cached files, and clear errors for regions and
 * tiles that are not in the image.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { serveImage, serveTile } from '../../src/extension/panel/image-cache';

let root: string;
let source: string;
let cache: string;
/** A red square on grey, where the level-0 tile (col 10, row 5) holds it. */
const SIGN = { left: 5200, top: 2900, side: 360 };

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ivgr-image-cache-'));
  source = join(root, 'big.png');
  cache = join(root, 'cache');
  const sign = await sharp({ create: { width: SIGN.side, height: SIGN.side, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .png()
    .toBuffer();
  await sharp({ create: { width: 7680, height: 4320, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([{ input: sign, left: SIGN.left, top: SIGN.top }])
    .png({ compressionLevel: 1 })
    .toFile(source);
});

after(() => rmSync(root, { recursive: true, force: true }));

async function pixel(file: string, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

test('the 8K image is served as a 1280×720 thumbnail', async () => {
  const t = await serveImage(source, cache, 1280);
  assert.deepEqual(t.original, { width: 7680, height: 4320 });
  assert.deepEqual(t.served, { width: 1280, height: 720 });
  const meta = await sharp(t.file).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 1280, 720]);
});

test('tiles are 512 px inside the image and clipped at its right and bottom edges', async () => {
  const inner = await serveTile(source, cache, { level: 0, col: 10, row: 5 });
  assert.deepEqual(inner.rect, { left: 5120, top: 2560, width: 512, height: 512 });
  assert.deepEqual(inner.served, { width: 512, height: 512 });
  // The tile is that part of the original: the red square starts at (80, 340) inside it.
  const [r, g] = await pixel(inner.file, 80 + 20, 340 + 20);
  assert.ok(r > 200 && g < 60, `red inside the sign, got ${r},${g}`);
  const [gr] = await pixel(inner.file, 40, 300);
  assert.ok(gr > 100 && gr < 160, `grey outside the sign, got ${gr}`);

  const corner = await serveTile(source, cache, { level: 0, col: 14, row: 8 });
  assert.deepEqual(corner.rect, { left: 7168, top: 4096, width: 512, height: 224 });
  const meta = await sharp(corner.file).metadata();
  assert.deepEqual([meta.width, meta.height], [512, 224]);

  const coarse = await serveTile(source, cache, { level: 2, col: 3, row: 2 });
  assert.deepEqual(coarse.rect, { left: 6144, top: 4096, width: 1536, height: 224 });
  assert.deepEqual(coarse.served, { width: 384, height: 56 });
  const top = await serveTile(source, cache, { level: 4, col: 0, row: 0 });
  assert.deepEqual(top.served, { width: 480, height: 270 });
});

test('a tile or image made once is reused from the cache until the source changes', async () => {
  const first = await serveTile(source, cache, { level: 1, col: 2, row: 1 });
  const made = statSync(first.file).mtimeMs;
  await new Promise((r) => setTimeout(r, 20));
  const again = await serveTile(source, cache, { level: 1, col: 2, row: 1 });
  assert.equal(again.file, first.file);
  assert.equal(statSync(again.file).mtimeMs, made, 'not written again');
  assert.notEqual((await serveTile(source, cache, { level: 1, col: 3, row: 1 })).file, first.file, 'another tile is another file');
  const thumb = await serveImage(source, cache, 1280);
  assert.equal((await serveImage(source, cache, 1280)).file, thumb.file);
  // An edited image (new mtime) gets fresh tiles rather than stale ones.
  const later = new Date(Date.now() + 5000);
  utimesSync(source, later, later);
  assert.notEqual((await serveTile(source, cache, { level: 1, col: 2, row: 1 })).file, first.file);
});

test('a region or tile outside the image is refused, naming the file, the image size and what exists', async () => {
  await assert.rejects(
    serveImage(source, cache, 240, [8000, 100, 8200, 300]),
    (e: Error) => e.message.includes(source) && /region \[8000, 100, 8200, 300\] lies outside the 7680×4320 image/.test(e.message),
  );
  await assert.rejects(
    serveTile(source, cache, { level: 0, col: 15, row: 0 }),
    (e: Error) =>
      e.message.startsWith(`${source}: `) && /lies outside the 7680×4320 image: level 0 has cols 0–14 and rows 0–8/.test(e.message),
  );
  await assert.rejects(
    serveTile(source, cache, { level: 6, col: 0, row: 0 }),
    /tile level 6 does not exist for a 7680×4320 image: expected a whole number from 0 to 4/,
  );
  // A region reaching past the edge is clipped, not refused.
  const crop = await serveImage(source, cache, 240, [7600, 4200, 7800, 4400]);
  assert.deepEqual(crop.served, { width: 80, height: 120 });
});
