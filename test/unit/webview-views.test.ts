import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MetricsRecord } from '../../src/core/types';
import type { RolloutRow } from '../../src/core/protocol/webview';
import { describeFilter, parseNumberField, withField } from '../../webview/filters';
import {
  bestMatch,
  boxFromPoints,
  fitView,
  handlePoint,
  HANDLES,
  MIN_BOX_SIDE,
  moveBox,
  resizeBox,
  toImage,
  zoomAt,
} from '../../webview/geometry';
import { CHARTS, columns, smooth } from '../../webview/metrics-series';
import { PageCache } from '../../webview/page-cache';
import { defaultState, restoreState } from '../../webview/state';
import { computeWindow, MAX_SCROLL_PX, scrollTopForRow } from '../../webview/windowing';

test('windowing renders only rows in view, at any row count, and caps the scroll height', () => {
  const w = computeWindow(1_000_000, 24, 0, 600, 5);
  assert.equal(w.first, 0);
  assert.ok(w.last - w.first + 1 <= 600 / 24 + 12);
  assert.equal(w.scrollHeight, MAX_SCROLL_PX);
  const end = computeWindow(1_000_000, 24, MAX_SCROLL_PX, 600, 0);
  assert.equal(end.last, 999_999, 'scrolled to the bottom shows the last row');
  assert.equal(computeWindow(0, 24, 0, 600).last, -1);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5_000_000 }), fc.integer({ min: 100, max: 2000 }), fc.nat(), (count, viewport, seed) => {
      const index = seed % count;
      const top = scrollTopForRow(count, 24, viewport, index);
      const win = computeWindow(count, 24, top, viewport, 0);
      // The requested row is on screen (or the list ends before it could reach the top).
      return win.first <= index && index <= win.last + 1;
    }),
  );
});

test('number fields: empty clears, non-numbers and fractions for whole-number fields are errors', () => {
  assert.deepEqual(parseNumberField(' ', true), { ok: true, value: undefined });
  assert.deepEqual(parseNumberField('12', true), { ok: true, value: 12 });
  assert.match((parseNumberField('1.5', true) as { error: string }).error, /whole number/);
  assert.deepEqual(parseNumberField('-0.25', false), { ok: true, value: -0.25 });
  assert.equal(parseNumberField('abc', false).ok, false);
  const f = withField(withField({}, 'stepMin', 3), 'tags', ['format']);
  assert.deepEqual(f, { stepMin: 3, tags: ['format'] });
  assert.deepEqual(withField(f, 'tags', []), { stepMin: 3 });
  assert.equal(describeFilter({ stepMin: 3, correct: false, text: 'sign' }), 'step 3–…, incorrect, “sign”');
});

test('smoothing: weight 0 is the identity, gaps stay gaps, constant series stay constant', () => {
  assert.deepEqual(smooth([1, 2, null, 3], 0), [1, 2, null, 3]);
  const s = smooth([2, 2, null, 2, 2], 0.9);
  assert.deepEqual(
    s.map((v) => (v === null ? null : Number(v.toFixed(9)))),
    [2, 2, null, 2, 2],
  );
  const ramp = smooth([0, 10, 10, 10], 0.5);
  assert.ok(ramp[1]! < 10 && ramp[3]! > ramp[1]!);
});

test('chart columns pick each metric per step, null where a stream is missing', () => {
  const m = {
    step: 3,
    reward: { grounded: 1.5 },
    terms: { textual: { consistency: 0.4 } },
    accuracy: {},
    kl: 0.01,
    clipFraction: 0.1,
    responseLength: {},
    tokensPerSecond: 500,
  } as unknown as MetricsRecord;
  const reward = CHARTS.find((c) => c.id === 'reward')!;
  assert.deepEqual(columns(reward, [m]), [[3], [1.5], [null]]);
  const terms = CHARTS.find((c) => c.id === 'terms')!;
  const i = terms.series.findIndex((s) => s.label === 't:consistency');
  assert.deepEqual(columns(terms, [m])[i + 1], [0.4]);
});

test("a pretraining run charts its loss terms and the latest stage's held-out perception scores", () => {
  const base = { reward: {}, terms: {}, accuracy: {}, kl: 0, clipFraction: 0, responseLength: {}, tokensPerSecond: 0 };
  const step = {
    ...base,
    step: 1,
    pretrain: { stage: 'single', learningRate: 1e-3, losses: { lm: 2.5, dense: 0.4, attention: 0.1 } },
  } as unknown as MetricsRecord;
  const held = {
    ...base,
    step: 250,
    perception: { loss: 0.9, 'single-val.colour': 1, 'demo-val.colour': 0.75, 'demo-val.box': 0.1, 'demo-val.box.iou50': 0.5 },
  } as unknown as MetricsRecord;
  const losses = CHARTS.find((c) => c.id === 'pretrain-loss')!;
  assert.deepEqual(columns(losses, [step]), [[1], [2.5], [0.4], [null], [0.1]]);
  const perception = CHARTS.find((c) => c.id === 'perception')!;
  const cols = columns(perception, [step, held]);
  const at = (label: string) => cols[perception.series.findIndex((s) => s.label === label) + 1];
  assert.deepEqual(at('colour'), [null, 0.75]);
  assert.deepEqual(at('box.iou50'), [null, 0.5]);
  assert.deepEqual(at('word'), [null, null]);
});

test('page cache requests each missing page once and evicts least recently used pages', () => {
  const c = new PageCache(10, 2);
  assert.deepEqual(c.claimMissing(0, 25), [0, 1, 2]);
  assert.deepEqual(c.claimMissing(0, 25), [], 'pending pages are not asked for twice');
  const rows = (p: number) => Array.from({ length: 10 }, (_, i) => ({ id: `r${p * 10 + i}` })) as never;
  c.fill(0, rows(0));
  c.fill(1, rows(1));
  c.claimMissing(0, 5);
  c.fill(2, rows(2));
  assert.equal(c.get(3)?.id, 'r3', 'page 0 was used recently and stays');
  assert.equal(c.get(13), undefined, 'page 1 was evicted');
  c.reset();
  assert.equal(c.get(3), undefined);
});

test('image geometry: fit, zoom about a point, boxes clamped to the image', () => {
  const v = fitView({ width: 7680, height: 4320 }, { width: 768, height: 600 });
  assert.equal(v.scale, 0.1);
  const z = zoomAt(v, 2, 100, 100);
  assert.deepEqual(toImage(z, 100, 100).map(Math.round), toImage(v, 100, 100).map(Math.round));
  assert.deepEqual(boxFromPoints([50, 80], [-10, 20], { width: 40, height: 100 }), [0, 20, 40, 80]);
  assert.deepEqual(moveBox([10, 10, 20, 20], 100, -100, { width: 50, height: 50 }), [40, 0, 50, 10]);
  assert.deepEqual(
    bestMatch(
      [0, 0, 10, 10],
      [
        [100, 100, 110, 110],
        [0, 0, 10, 5],
      ],
    ),
    { iou: 0.5, index: 1 },
  );
});

test('saved panel state is restored field by field', () => {
  const s = restoreState({ tab: 'eval', filter: { stream: 'nope' }, smoothing: 0.3, selected: { kind: 'rollout', id: 'r1' } });
  assert.equal(s.tab, 'eval');
  assert.equal(s.smoothing, 0.3);
  assert.deepEqual(s.filter, defaultState().filter, 'an invalid filter falls back to the default');
  assert.deepEqual(s.selected, { kind: 'rollout', id: 'r1' });
  assert.deepEqual(restoreState('garbage'), defaultState());
});

test('scrolling to a row aligned at the bottom shows it as the last full row', () => {
  for (const count of [232, 1_000_000]) {
    const index = count - 1;
    const top = scrollTopForRow(count, 24, 600, index, 'bottom');
    const w = computeWindow(count, 24, top, 600, 0);
    assert.equal(w.last, index);
    const mid = scrollTopForRow(count, 24, 600, 100, 'bottom');
    const wm = computeWindow(count, 24, mid, 600, 0);
    assert.ok(wm.first <= 100 && 100 <= wm.last, `row 100 in view at ${count}`);
  }
});

test('a corrected box resizes by the edges its handle moves, stays ordered, inside the image and not degenerate', () => {
  const img = { width: 100, height: 80 };
  const box: [number, number, number, number] = [20, 20, 60, 50];
  assert.deepEqual(resizeBox(box, 'se', [70.4, 60.6], img), [20, 20, 70, 61]);
  assert.deepEqual(resizeBox(box, 'n', [999, 5], img), [20, 5, 60, 50], 'an edge handle moves one edge only');
  assert.deepEqual(resizeBox(box, 'w', [-30, 0], img), [0, 20, 60, 50], 'clamped to the image');
  assert.deepEqual(resizeBox(box, 'nw', [90, 70], img), [60, 50, 90, 70], 'dragged past the opposite corner, the box flips');
  assert.deepEqual(resizeBox(box, 'e', [20, 0], img), [20, 20, 22, 50], 'never thinner than MIN_BOX_SIDE');
  assert.deepEqual(handlePoint(box, 'ne'), [60, 20]);
  assert.deepEqual(handlePoint(box, 's'), [40, 50]);
  fc.assert(
    fc.property(
      fc.constantFrom(...HANDLES),
      fc.double({ min: -500, max: 500, noNaN: true }),
      fc.double({ min: -500, max: 500, noNaN: true }),
      (handle, x, y) => {
        const [x1, y1, x2, y2] = resizeBox(box, handle, [x, y], img);
        return x1 >= 0 && y1 >= 0 && x2 <= img.width && y2 <= img.height && x2 - x1 >= MIN_BOX_SIDE && y2 - y1 >= MIN_BOX_SIDE;
      },
    ),
  );
});

test('the panel keeps at most the configured number of rollout rows, dropping the least recently used pages', () => {
  const cache = new PageCache(100, 60);
  const rows = (page: number) => Array.from({ length: 100 }, (_, i) => ({ id: `r${page * 100 + i}` }) as unknown as RolloutRow);
  for (let p = 0; p < 5; p++) cache.fill(p, rows(p));
  cache.claimMissing(0, 99);
  cache.setMaxRows(300);
  assert.equal(cache.get(0)?.id, 'r0', 'touched page 0 is kept');
  assert.equal(cache.get(150), undefined, 'page 1 was the least recently used');
  assert.equal(cache.get(450)?.id, 'r450');
  cache.fill(5, rows(5));
  assert.equal([0, 1, 2, 3, 4, 5].filter((p) => cache.get(p * 100) !== undefined).length, 3);
});
