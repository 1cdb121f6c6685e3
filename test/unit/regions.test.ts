import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { boxCells, cellName, centerCell, describeRegion, findRegionPhrases } from '../../src/core/regions';
import type { Box } from '../../src/core/types';

const size = { width: 900, height: 600 };

function cellsOf(text: string): number[][] {
  return findRegionPhrases(text).map((p) => p.cells);
}

test('describeRegion names the cell holding the box centre', () => {
  assert.equal(describeRegion([10, 10, 60, 40], size), 'near the top-left corner');
  assert.equal(describeRegion([400, 250, 500, 350], size), 'at the center');
  assert.equal(describeRegion([820, 520, 890, 590], size), 'near the bottom-right corner');
  assert.equal(describeRegion([400, 500, 480, 590], size), 'along the bottom edge');
  assert.equal(describeRegion([0, 250, 100, 330], size), 'in the left middle');
});

test('every describeRegion phrase reads back as exactly its cell', () => {
  for (let cell = 0; cell < 9; cell++) {
    const cx = ((cell % 3) + 0.5) * 300;
    const cy = (Math.floor(cell / 3) + 0.5) * 200;
    const phrase = describeRegion([cx - 20, cy - 20, cx + 20, cy + 20], size);
    const found = findRegionPhrases(`The red cup is ${phrase} of the image, next to a lamp.`);
    assert.deepEqual(
      found.map((f) => f.cells),
      [[cell]],
      `${cellName(cell)}: "${phrase}"`,
    );
  }
});

test('round trip holds for random boxes anywhere in the image', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 899 }), fc.integer({ min: 0, max: 599 }), fc.integer({ min: 1, max: 300 }), (x, y, s) => {
      const box: Box = [x, y, Math.min(900, x + s), Math.min(600, y + s)];
      const found = findRegionPhrases(`I look ${describeRegion(box, size)}.`);
      assert.deepEqual(
        found.map((f) => f.cells),
        [[centerCell(box, size)]],
      );
    }),
  );
});

test('common variants are recognised', () => {
  assert.deepEqual(cellsOf('the sign in the upper left'), [[0]]);
  assert.deepEqual(cellsOf('a top left corner label'), [[0]]);
  assert.deepEqual(cellsOf('something in the lower right'), [[8]]);
  assert.deepEqual(cellsOf('the cat sits in the middle'), [[4]]);
  assert.deepEqual(cellsOf('at the centre of the picture'), [[4]]);
  assert.deepEqual(cellsOf('look at the bottom'), [[6, 7, 8]]);
  assert.deepEqual(cellsOf('on the left-hand side'), [[0, 3, 6]]);
  assert.deepEqual(cellsOf('the upper half'), [[0, 1, 2]]);
  assert.deepEqual(cellsOf('center-right region'), [[5]]);
  assert.deepEqual(cellsOf('Top-Right'), [[2]]);
  assert.deepEqual(cellsOf('the top middle'), [[1]]);
});

test('spans cover the phrase in the original text', () => {
  const text = 'First the Upper-Left corner, then the bottom edge.';
  const found = findRegionPhrases(text);
  assert.deepEqual(
    found.map((f) => text.slice(f.span.start, f.span.end)),
    ['Upper-Left corner', 'bottom edge'],
  );
  assert.deepEqual(
    found.map((f) => f.cells),
    [[0], [7]],
  );
});

test('position words that do not locate an image region are ignored', () => {
  assert.deepEqual(cellsOf('That is right, the answer is B.'), []);
  assert.deepEqual(cellsOf('There is one apple left.'), []);
  assert.deepEqual(cellsOf('The text at the top of the sign is red.'), []);
  assert.deepEqual(cellsOf('It sits on top of the table.'), []);
  assert.deepEqual(cellsOf('no location here at all'), []);
});

test('boxCells weights are overlap fractions that sum to 1', () => {
  assert.deepEqual(boxCells([0, 0, 100, 100], size), [{ cell: 0, weight: 1 }]);
  const straddle = boxCells([250, 150, 350, 250], size);
  assert.deepEqual(
    straddle.map((c) => c.cell),
    [0, 1, 3, 4],
  );
  for (const c of straddle) assert.ok(Math.abs(c.weight - 0.25) < 1e-12);
  const whole = boxCells([0, 0, 900, 600], size);
  assert.equal(whole.length, 9);
  fc.assert(
    fc.property(
      fc.integer({ min: -50, max: 950 }),
      fc.integer({ min: -50, max: 650 }),
      fc.integer({ min: 0, max: 500 }),
      fc.integer({ min: 0, max: 500 }),
      (x, y, w, h) => {
        const cells = boxCells([x, y, x + w, y + h], size);
        const sum = cells.reduce((s, c) => s + c.weight, 0);
        assert.ok(Math.abs(sum - 1) < 1e-9, `sum ${sum}`);
        assert.ok(cells.every((c) => c.cell >= 0 && c.cell <= 8 && c.weight > 0));
      },
    ),
  );
});

test('a degenerate box is placed at its centre cell', () => {
  assert.deepEqual(boxCells([850, 580, 850, 580], size), [{ cell: 8, weight: 1 }]);
});

test('a non-positive image size is rejected with the size in the message', () => {
  assert.throws(() => boxCells([0, 0, 1, 1], { width: 0, height: 10 }), /0x10/);
});
