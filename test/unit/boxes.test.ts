import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { boxArea, fromOriginal, giou, iou, matchBoxes, precisionRecall, smartResize, toOriginal, validateBox } from '../../src/core/boxes';
import type { Box, CoordConvention, ImageSize } from '../../src/core/types';

test('boxArea is width x height, 0 for swapped or empty boxes', () => {
  assert.equal(boxArea([10, 20, 30, 60]), 800);
  assert.equal(boxArea([30, 20, 10, 60]), 0);
  assert.equal(boxArea([10, 10, 10, 50]), 0);
});

test('iou of known overlaps', () => {
  assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  assert.equal(iou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
  assert.equal(iou([0, 0, 10, 10], [10, 0, 20, 10]), 0, 'touching edges do not overlap');
  assert.equal(iou([0, 0, 10, 10], [2, 2, 4, 4]), 4 / 100);
  assert.equal(iou([0, 0, 0, 10], [0, 0, 0, 10]), 0, 'degenerate boxes have IoU 0');
  assert.equal(iou([0, 0, Number.NaN, 10], [0, 0, 10, 10]), 0);
});

test('giou penalises distance between disjoint boxes', () => {
  assert.equal(giou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  const near = giou([0, 0, 10, 10], [10, 0, 20, 10]);
  const far = giou([0, 0, 10, 10], [90, 0, 100, 10]);
  assert.equal(near, 0);
  assert.ok(far < near && far >= -1, `far ${far} < near ${near}`);
  assert.ok(Math.abs(far - -0.8) < 1e-12);
});

test('matchBoxes finds the optimal assignment where greedy would not', () => {
  // Greedy takes pred0-gt0 (IoU 0.6) and leaves pred1 with nothing; optimal pairs crosswise.
  const gt: Box[] = [
    [0, 0, 10, 10],
    [6, 0, 16, 10],
  ];
  const pred: Box[] = [
    [4, 0, 14, 10],
    [0, 0, 8, 10],
  ];
  const m = matchBoxes(pred, gt);
  assert.equal(m.length, 2);
  const total = m.reduce((s, x) => s + x.iou, 0);
  const greedy = iou(pred[0]!, gt[0]!) + iou(pred[1]!, gt[1]!);
  assert.ok(total > greedy, `optimal ${total} > greedy ${greedy}`);
  assert.deepEqual(
    m.map((x) => [x.pred, x.gt]),
    [
      [0, 1],
      [1, 0],
    ],
  );
});

test('matchBoxes handles more predictions than ground truth and drops zero-overlap pairs', () => {
  const gt: Box[] = [[0, 0, 10, 10]];
  const pred: Box[] = [
    [100, 100, 110, 110],
    [1, 1, 10, 10],
    [50, 50, 60, 60],
  ];
  assert.deepEqual(matchBoxes(pred, gt), [{ pred: 1, gt: 0, iou: 81 / 100 }]);
  assert.deepEqual(matchBoxes([[100, 100, 110, 110]], gt), []);
  assert.deepEqual(matchBoxes([], gt), []);
});

test('precisionRecall counts matches at or above the threshold', () => {
  const gt: Box[] = [
    [0, 0, 10, 10],
    [20, 20, 30, 30],
  ];
  const pred: Box[] = [
    [0, 0, 10, 10],
    [22, 22, 30, 30],
    [50, 50, 60, 60],
  ];
  assert.deepEqual(precisionRecall(pred, gt, 0.5), { precision: 2 / 3, recall: 1, matched: 2 });
  assert.deepEqual(precisionRecall(pred, gt, 0.7), { precision: 1 / 3, recall: 1 / 2, matched: 1 });
  assert.deepEqual(precisionRecall([], [], 0.5), { precision: 1, recall: 1, matched: 0 });
  assert.deepEqual(precisionRecall([], gt, 0.5), { precision: 0, recall: 0, matched: 0 });
  assert.deepEqual(precisionRecall(pred, [], 0.5), { precision: 0, recall: 0, matched: 0 });
});

test('smartResize matches the Qwen2-VL image processor', () => {
  // Expected values computed with the reference Python smart_resize (round half to even).
  const cases: Array<[[number, number], [number, number]]> = [
    [
      [1000, 1000],
      [980, 980],
    ],
    [
      [1920, 1080],
      [1316, 728],
    ],
    [
      [640, 480],
      [644, 476],
    ],
    [
      [4000, 3000],
      [1148, 840],
    ],
    [
      [20, 30],
      [56, 84],
    ],
    [
      [70, 42],
      [56, 56],
    ],
    [
      [98, 98],
      [112, 112],
    ],
    [
      [2000, 10],
      [1988, 28],
    ],
    [
      [812, 1022],
      [812, 1008],
    ],
  ];
  for (const [[width, height], [w, h]] of cases) {
    assert.deepEqual(smartResize({ width, height }), { width: w, height: h }, `${width}x${height}`);
  }
  assert.deepEqual(smartResize({ width: 1000, height: 1000 }, { maxPixels: 28 * 28 * 256 }), { width: 448, height: 448 });
  assert.throws(() => smartResize({ width: 0, height: 10 }), /positive/);
});

test('smartResize output is always a valid model input', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8000 }), fc.integer({ min: 1, max: 8000 }), (width, height) => {
      fc.pre(Math.max(width, height) / Math.min(width, height) <= 50);
      const r = smartResize({ width, height });
      assert.equal(r.width % 28, 0);
      assert.equal(r.height % 28, 0);
      assert.ok(r.width * r.height <= 28 * 28 * 1280, `${r.width}x${r.height} over max`);
      assert.ok(r.width * r.height >= 56 * 56, `${r.width}x${r.height} under min`);
    }),
  );
});

test('toOriginal converts each convention to original pixels', () => {
  const original = { width: 2000, height: 1000 };
  assert.deepEqual(toOriginal([10, 20, 30, 40], 'pixels', original), [10, 20, 30, 40]);
  assert.deepEqual(toOriginal([0.1, 0.2, 0.5, 1], 'relative', original), [200, 200, 1000, 1000]);
  assert.deepEqual(toOriginal([100, 200, 500, 1000], 'qwen2-1000', original), [200, 200, 1000, 1000]);
  // 2000x1000 smart-resizes to 1400x700 under the default max pixels.
  assert.deepEqual(smartResize(original), { width: 1400, height: 700 });
  assert.deepEqual(toOriginal([140, 70, 700, 700], 'qwen25-abs', original), [200, 100, 1000, 1000]);
  assert.deepEqual(toOriginal([50, 50, 100, 100], 'qwen25-abs', original, { width: 500, height: 500 }), [200, 100, 400, 200]);
  assert.throws(() => toOriginal([1, 2, 3], 'pixels', original), /4 numbers/);
});

test('fromOriginal writes integers for the Qwen conventions', () => {
  const original = { width: 2000, height: 1000 };
  assert.deepEqual(fromOriginal([200, 200, 1000, 1000], 'qwen2-1000', original), [100, 200, 500, 1000]);
  assert.deepEqual(fromOriginal([201, 101, 999, 999], 'qwen25-abs', original), [141, 71, 699, 699]);
  assert.deepEqual(fromOriginal([200, 200, 1000, 1000], 'relative', original), [0.1, 0.2, 0.5, 1]);
});

const conventions: CoordConvention[] = ['pixels', 'relative', 'qwen2-1000', 'qwen25-abs'];
const sizeArb = fc.record({ width: fc.integer({ min: 28, max: 5000 }), height: fc.integer({ min: 28, max: 5000 }) });

function boxIn(size: ImageSize): fc.Arbitrary<Box> {
  return fc
    .tuple(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
    )
    .map(([a, b, c, d]) => [
      Math.min(a, c) * size.width,
      Math.min(b, d) * size.height,
      Math.max(a, c) * size.width,
      Math.max(b, d) * size.height,
    ]);
}

test('original -> model -> original round trip is within half a model unit, every convention', () => {
  fc.assert(
    fc.property(
      sizeArb.chain((size) => fc.tuple(fc.constant(size), boxIn(size), fc.constantFrom(...conventions))),
      ([size, box, conv]) => {
        const back = toOriginal(fromOriginal(box, conv, size), conv, size);
        const resized = smartResize(size);
        // One model unit in original pixels, per axis; rounding moves a coordinate at most half of it.
        const unit =
          conv === 'qwen2-1000'
            ? [size.width / 1000, size.height / 1000]
            : conv === 'qwen25-abs'
              ? [size.width / resized.width, size.height / resized.height]
              : [0, 0];
        for (let i = 0; i < 4; i++) {
          const tol = unit[i % 2]! / 2 + 1e-6 * Math.max(size.width, size.height);
          assert.ok(Math.abs(back[i]! - box[i]!) <= tol, `${conv} coord ${i}: ${box[i]} -> ${back[i]} (tol ${tol})`);
        }
      },
    ),
  );
});

test('model -> original -> model round trip returns what the model wrote, every convention', () => {
  fc.assert(
    fc.property(
      sizeArb,
      fc.constantFrom(...conventions),
      fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 4, maxLength: 4 }),
      (size, conv, ints) => {
        const resized = smartResize(size);
        const range =
          conv === 'qwen25-abs'
            ? [resized.width, resized.height]
            : conv === 'relative'
              ? [1, 1]
              : conv === 'pixels'
                ? [size.width, size.height]
                : [1000, 1000];
        const raw = ints.map((v, i) => (conv === 'relative' ? v / 1000 : Math.round((v / 1000) * range[i % 2]!)));
        const back = fromOriginal(toOriginal(raw, conv, size), conv, size);
        for (let i = 0; i < 4; i++) assert.ok(Math.abs(back[i]! - raw[i]!) <= 1e-9 * Math.max(1, raw[i]!), `${conv}: ${raw} -> ${back}`);
      },
    ),
  );
});

test('iou properties: symmetric, in [0, 1], iou(a, a) = 1, giou <= iou', () => {
  const coord = fc.double({ min: -1000, max: 3000, noNaN: true });
  const box = fc
    .tuple(coord, coord, coord, coord)
    .map(([a, b, c, d]): Box => [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)]);
  fc.assert(
    fc.property(box, box, (a, b) => {
      const ab = iou(a, b);
      assert.equal(ab, iou(b, a));
      assert.ok(ab >= 0 && ab <= 1);
      const g = giou(a, b);
      assert.ok(g >= -1 && g <= ab, `giou ${g} iou ${ab}`);
      if (boxArea(a) > 0) assert.equal(iou(a, a), 1);
    }),
  );
});

test('validateBox rejects malformed boxes with a reason', () => {
  const size = { width: 100, height: 50 };
  const reason = (raw: number[]) => {
    const r = validateBox(raw, size, 'clamp');
    assert.equal(r.ok, false, `${raw} should be rejected`);
    return r.ok ? '' : r.reason;
  };
  assert.match(reason([1, 2, 3]), /4 numbers/);
  assert.match(reason([Number.NaN, 0, 10, 10]), /coordinate 1 is NaN/);
  assert.match(reason([0, 0, Infinity, 10]), /coordinate 3 is Infinity/);
  assert.match(reason([10, 0, 10, 10]), /x2 .* greater than x1/);
  assert.match(reason([0, 20, 10, 5]), /y2 .* greater than y1/);
  assert.match(reason([100, 0, 120, 10]), /outside the 100x50 image/);
  assert.match(reason([-20, -20, 0, 10]), /outside/);
});

test('validateBox clamps partly-outside boxes, or rejects them in reject mode', () => {
  const size = { width: 100, height: 50 };
  assert.deepEqual(validateBox([10, 10, 20, 20], size, 'reject'), { ok: true, box: [10, 10, 20, 20], clamped: false });
  assert.deepEqual(validateBox([-5, 10, 120, 60], size, 'clamp'), { ok: true, box: [0, 10, 100, 50], clamped: true });
  const rejected = validateBox([-5, 10, 120, 60], size, 'reject');
  assert.equal(rejected.ok, false);
  assert.match(rejected.ok ? '' : rejected.reason, /beyond the 100x50 image/);
});

/** Best total IoU over every one-to-one assignment, by brute force. */
function bruteForceBest(pred: Box[], gt: Box[]): number {
  const used = new Array<boolean>(gt.length).fill(false);
  const go = (i: number): number => {
    if (i === pred.length) return 0;
    let best = go(i + 1);
    for (let j = 0; j < gt.length; j++) {
      if (used[j]) continue;
      used[j] = true;
      best = Math.max(best, iou(pred[i]!, gt[j]!) + go(i + 1));
      used[j] = false;
    }
    return best;
  };
  return go(0);
}

test('matchBoxes reaches the brute-force optimum and is one-to-one', () => {
  const coord = fc.integer({ min: 0, max: 100 });
  const box = fc
    .tuple(coord, coord, fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }))
    .map(([x, y, w, h]): Box => [x, y, x + w, y + h]);
  fc.assert(
    fc.property(fc.array(box, { maxLength: 5 }), fc.array(box, { maxLength: 5 }), (pred, gt) => {
      const m = matchBoxes(pred, gt);
      assert.equal(new Set(m.map((x) => x.pred)).size, m.length);
      assert.equal(new Set(m.map((x) => x.gt)).size, m.length);
      for (const x of m) assert.equal(x.iou, iou(pred[x.pred]!, gt[x.gt]!));
      const total = m.reduce((s, x) => s + x.iou, 0);
      assert.ok(Math.abs(total - bruteForceBest(pred, gt)) < 1e-9, `total ${total}`);
    }),
    { numRuns: 300 },
  );
});
