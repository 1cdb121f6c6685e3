import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutLabels, type LabelRect } from '../../webview/label-layout';

const image = { width: 200, height: 100 };
const inside = (r: LabelRect) => r.x >= 0 && r.y >= 0 && r.x + r.width <= image.width && r.y + r.height <= image.height;
const apart = (a: LabelRect, b: LabelRect) =>
  a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;

test('labels of boxes at the corners and on each other stay inside the image and apart', () => {
  const rects = layoutLabels(
    [
      { box: [0, 0, 40, 30], width: 60, height: 10 },
      { box: [2, 2, 42, 32], width: 60, height: 10 },
      { box: [1, 1, 41, 31], width: 60, height: 10, below: true },
      { box: [170, 80, 200, 100], width: 70, height: 10 },
      { box: [168, 78, 198, 98], width: 70, height: 10, below: true },
    ],
    image,
  );
  for (const r of rects) assert.ok(inside(r), JSON.stringify(r));
  for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) assert.ok(apart(rects[i]!, rects[j]!), `${i} and ${j}`);
});

test('a label goes above its box when there is room, below first when asked', () => {
  const [a, b] = layoutLabels(
    [
      { box: [50, 50, 90, 80], width: 30, height: 10 },
      { box: [120, 50, 160, 80], width: 30, height: 10, below: true },
    ],
    image,
  );
  assert.deepEqual(a, { x: 50, y: 40, width: 30, height: 10 });
  assert.deepEqual(b, { x: 120, y: 80, width: 30, height: 10 });
});
