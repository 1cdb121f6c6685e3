import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applies, CHARTS, fitRange, formatDuration, pace, rewardWeights, seriesCsv } from '../../webview/metrics-series';
import { makeMetrics } from '../webview/harness/fixture';

test('y ranges fit the data; a flat series gets a band around its value, all zeros 0–1', () => {
  assert.deepEqual(fitRange(0, 0), [0, 1]);
  assert.deepEqual(fitRange(null, null), [0, 1]);
  assert.deepEqual(fitRange(5, 5), [4.5, 5.5]);
  // A smoothed value off by rounding from the raw one is still flat (a range of 1e-13 has no ticks).
  const [lo, hi] = fitRange(903, 903.0000000000001);
  assert.ok(hi - lo > 100);
  assert.deepEqual(fitRange(10, 20), [9.5, 20.5]);
  assert.deepEqual(fitRange(0.01, 1), [0, 1.0495]);
});

test('grounding on the textual stream, consistency on the grounded one and weight-0 terms do not apply', () => {
  const terms = CHARTS.find((c) => c.id === 'terms')!;
  const weights = rewardWeights({ rewards: { accuracy: 1, format: 0.5, grounding: 0.5, consistency: 0.5, tool: 0 } });
  assert.deepEqual(
    terms.series.filter((s) => applies(s, weights)).map((s) => s.label),
    ['g:accuracy', 'g:format', 'g:grounding', 't:accuracy', 't:format', 't:consistency'],
  );
  assert.equal(
    CHARTS.find((c) => c.id === 'reward')!.series.every((s) => applies(s, weights)),
    true,
  );
});

test('pace is steps per second over the recent steps, with the time left', () => {
  const records = [1, 2, 3, 4].map((s) => ({ ...makeMetrics(s), time: s * 2000 }));
  assert.deepEqual(pace(records, 10), { stepsPerSecond: 0.5, etaSeconds: 12 });
  assert.equal(pace(records.slice(0, 1), 10), null);
  assert.equal(formatDuration(14), '14 s');
  assert.equal(formatDuration(3 * 3600 + 5 * 60), '3 h 05 min');
});

test('a chart CSV has one line per step and raw values, blank where a step lacks one', () => {
  const reward = CHARTS.find((c) => c.id === 'reward')!;
  const m = { ...makeMetrics(2), reward: { grounded: 1.5 } };
  assert.equal(seriesCsv(reward.series, [m]), 'step,grounded,textual\n2,1.5,\n');
});
