import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseHostMessage, parsePanelMessage } from '../../src/core/protocol/webview';
import {
  gridSize,
  levelFor,
  tileRect,
  tileServedSize,
  tilesCovering,
  tilesForView,
  TILE_SIZE,
  topLevel,
  visibleRegion,
  type PixelRect,
} from '../../src/core/tiles';

const EIGHT_K = { width: 7680, height: 4320 };

const size = fc.record({ width: fc.integer({ min: 1, max: 20_000 }), height: fc.integer({ min: 1, max: 20_000 }) });
const inside = (r: PixelRect, s: { width: number; height: number }) =>
  r.left >= 0 && r.top >= 0 && r.width > 0 && r.height > 0 && r.left + r.width <= s.width && r.top + r.height <= s.height;
const overlap = (a: PixelRect, b: PixelRect) =>
  Math.min(a.left + a.width, b.left + b.width) > Math.max(a.left, b.left) &&
  Math.min(a.top + a.height, b.top + b.height) > Math.max(a.top, b.top);

test('an 8K image has a five-level pyramid of 512 px tiles, clipped at the right and bottom edges', () => {
  assert.equal(topLevel(EIGHT_K), 4);
  assert.deepEqual(gridSize(EIGHT_K, 0), { cols: 15, rows: 9 });
  assert.deepEqual(gridSize(EIGHT_K, 4), { cols: 1, rows: 1 });
  assert.deepEqual(tileRect(EIGHT_K, { level: 0, col: 14, row: 8 }), { left: 7168, top: 4096, width: 512, height: 224 });
  const edge = tileRect(EIGHT_K, { level: 2, col: 3, row: 2 });
  assert.deepEqual(edge, { left: 6144, top: 4096, width: 1536, height: 224 });
  assert.deepEqual(tileServedSize(edge, 2), { width: 384, height: 56 });
  assert.deepEqual(tileServedSize(tileRect(EIGHT_K, { level: 1, col: 0, row: 0 }), 1), { width: TILE_SIZE, height: TILE_SIZE });
  assert.equal(topLevel({ width: 300, height: 200 }), 0);
});

test('a tile outside the pyramid is refused with the image size and the grid it has', () => {
  assert.throws(
    () => tileRect(EIGHT_K, { level: 0, col: 15, row: 0 }),
    /tile \(level 0, col 15, row 0\) lies outside the 7680×4320 image: level 0 has cols 0–14 and rows 0–8/,
  );
  assert.throws(
    () => tileRect(EIGHT_K, { level: 5, col: 0, row: 0 }),
    /tile level 5 does not exist for a 7680×4320 image: expected a whole number from 0 to 4/,
  );
  assert.throws(() => tileRect(EIGHT_K, { level: 1, col: -1, row: 0 }), RangeError);
});

test('every level tiles the whole image exactly: no gaps, no overlaps, nothing outside', () => {
  fc.assert(
    fc.property(size, fc.nat(), (s, pick) => {
      const level = pick % (topLevel(s) + 1);
      const { cols, rows } = gridSize(s, level);
      let area = 0;
      for (let row = 0; row < rows; row++) {
        for (let col = 0; col < cols; col++) {
          const r = tileRect(s, { level, col, row });
          if (!inside(r, s)) return false;
          const served = tileServedSize(r, level);
          if (served.width > TILE_SIZE || served.height > TILE_SIZE) return false;
          area += r.width * r.height;
        }
      }
      return area === s.width * s.height;
    }),
    { numRuns: 200 },
  );
});

test('the tiles for a viewport cover all of it, do not overlap and stay inside the image', () => {
  const view = fc.record({
    scale: fc.double({ min: 0.01, max: 32, noNaN: true }),
    tx: fc.double({ min: -200_000, max: 2000, noNaN: true }),
    ty: fc.double({ min: -200_000, max: 2000, noNaN: true }),
  });
  const viewport = fc.record({ width: fc.integer({ min: 1, max: 3000 }), height: fc.integer({ min: 1, max: 2000 }) });
  fc.assert(
    fc.property(size, view, viewport, fc.nat(), (s, v, vp, pick) => {
      const region = visibleRegion(s, v, vp);
      if (!region) return true;
      const level = pick % (topLevel(s) + 1);
      const tiles = tilesCovering(s, region, level);
      const rects = tiles.map((t) => tileRect(s, t));
      if (!rects.every((r) => inside(r, s))) return false;
      for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) if (overlap(rects[i]!, rects[j]!)) return false;
      // Covered: the tiles' area inside the region adds up to the region's area.
      const covered = rects.reduce((sum, r) => {
        const w = Math.min(r.left + r.width, region.left + region.width) - Math.max(r.left, region.left);
        const h = Math.min(r.top + r.height, region.top + region.height) - Math.max(r.top, region.top);
        return sum + Math.max(0, w) * Math.max(0, h);
      }, 0);
      return Math.abs(covered - region.width * region.height) <= 1e-6 * region.width * region.height;
    }),
    { numRuns: 300 },
  );
});

test('the level follows the on-screen scale and is never coarser than the screen needs', () => {
  assert.equal(levelFor(EIGHT_K, 1), 0);
  assert.equal(levelFor(EIGHT_K, 2), 0, 'beyond full resolution the original is the best there is');
  assert.equal(levelFor(EIGHT_K, 0.5), 1);
  assert.equal(levelFor(EIGHT_K, 0.3), 1);
  assert.equal(levelFor(EIGHT_K, 0.001), 4, 'never above the top of the pyramid');
  fc.assert(fc.property(fc.double({ min: 1 / 16, max: 1, noNaN: true }), (d) => 2 ** -levelFor(EIGHT_K, d) >= d));
});

test('tiles are asked for only once the thumbnail would show enlarged pixels, centre first', () => {
  const viewport = { width: 800, height: 360 };
  // Fitted, the 1280 px thumbnail has more pixels than the screen shows.
  assert.equal(tilesForView(EIGHT_K, { scale: 800 / 7680, tx: 0, ty: 0 }, viewport, 1, 1280), null);
  // A 1280 px image is its own thumbnail at full resolution: tiles never add anything.
  assert.equal(tilesForView({ width: 1280, height: 720 }, { scale: 8, tx: 0, ty: 0 }, viewport, 2, 1280), null);
  // At 1:1 about the middle of the 8K image: level 0 tiles around the centre.
  const centre = tilesForView(EIGHT_K, { scale: 1, tx: -3440, ty: -1980 }, viewport, 1, 1280)!;
  assert.equal(centre.level, 0);
  assert.deepEqual(centre.tiles[0], { level: 0, col: 7, row: 4 });
  assert.equal(centre.tiles.length, 6);
  // Half way: level 1, and a devicePixelRatio of 2 asks for level 0 instead.
  assert.equal(tilesForView(EIGHT_K, { scale: 0.5, tx: -1000, ty: -500 }, viewport, 1, 1280)!.level, 1);
  assert.equal(tilesForView(EIGHT_K, { scale: 0.5, tx: -1000, ty: -500 }, viewport, 2, 1280)!.level, 0);
  // Panned right off the image: nothing is visible, nothing is asked for.
  assert.deepEqual(tilesForView(EIGHT_K, { scale: 1, tx: 5000, ty: 0 }, viewport, 1, 1280), { level: 0, tiles: [] });
});

test('tile messages are validated on both sides, naming the failing field', () => {
  assert.equal(parsePanelMessage({ type: 'getTile', requestId: 4, path: 'images/q0.png', level: 2, col: 3, row: 1 }).ok, true);
  const fraction = parsePanelMessage({ type: 'getTile', requestId: 4, path: 'images/q0.png', level: 0, col: 1.5, row: 0 });
  assert.match(!fraction.ok ? fraction.error : '', /panel message "getTile" invalid at col/);
  const deep = parsePanelMessage({ type: 'getTile', requestId: 4, path: 'images/q0.png', level: 99, col: 0, row: 0 });
  assert.match(!deep.ok ? deep.error : '', /invalid at level/);
  assert.equal(parsePanelMessage({ type: 'dropTiles', requestIds: [4, 5] }).ok, true);
  assert.match((parsePanelMessage({ type: 'dropTiles', requestIds: [-1] }) as { error: string }).error, /invalid at requestIds\.0/);
  const tile = {
    type: 'tile',
    requestId: 4,
    path: 'images/q0.png',
    level: 0,
    col: 14,
    row: 8,
    uri: 'https://x/t.webp',
    rect: { left: 7168, top: 4096, width: 512, height: 224 },
    served: { width: 512, height: 224 },
  };
  assert.equal(parseHostMessage(tile).ok, true);
  const empty = parseHostMessage({ ...tile, rect: { ...tile.rect, height: 0 } });
  assert.match(!empty.ok ? empty.error : '', /host message "tile" invalid at rect\.height/);
});
