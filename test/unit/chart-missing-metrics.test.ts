import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsRecord } from '../../src/core/types';
import { convertRows, parseDumpLine } from '../../src/run/import-dump';
import { CHARTS, columns, hasValues } from '../../webview/metrics-series';

const chart = (id: string) => CHARTS.find((c) => c.id === id)!;

test('an imported dump charts its rewards and accuracy, and no KL, clip fraction, length or speed it does not have', () => {
  const rows = [
    { input: 'Q', output: '<answer>A</answer>', score: 1, step: 1 },
    { input: 'Q', output: '<answer>B</answer>', score: 0, step: 2 },
  ].map((o, i) => parseDumpLine(o, i + 1, 'd.jsonl').row);
  const { metrics } = convertRows(rows, 0);
  assert.ok(hasValues(chart('reward'), metrics));
  assert.ok(hasValues(chart('accuracy'), metrics));
  for (const id of ['kl', 'clip', 'length', 'tps']) {
    assert.equal(hasValues(chart(id), metrics), false, `${id} is not drawn`);
    assert.deepEqual(
      columns(chart(id), metrics).slice(1).flat(),
      metrics.flatMap(() => chart(id).series.map(() => null)),
      `${id} holds gaps, not zeros`,
    );
  }
});

test('a trained run with a step lacking KL leaves a gap there, not a zero', () => {
  const base = {
    v: 1,
    time: 0,
    reward: {},
    terms: {},
    accuracy: {},
    responseLength: {},
    tokensPerSecond: 0,
    phases: {},
    highQualityGrounded: 0,
  } as const;
  const records: MetricsRecord[] = [
    { ...base, step: 1, kl: 0.02 },
    { ...base, step: 2 },
    { ...base, step: 3, kl: 0.04 },
  ];
  assert.deepEqual(columns(chart('kl'), records), [
    [1, 2, 3],
    [0.02, null, 0.04],
  ]);
});
