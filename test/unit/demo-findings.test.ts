import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRows, demoFindings } from '../../src/core/demo-findings';
import type { EvalSummaryRow, MetricsRecord } from '../../src/core/types';

const row = (checkpoint: string, mode: EvalSummaryRow['mode'], accuracy: number, half = 0.05): EvalSummaryRow => ({
  checkpoint,
  mode,
  engine: 'torch',
  n: 128,
  accuracy,
  ciLow: accuracy - half,
  ciHigh: accuracy + half,
  meanIou: null,
  hitRate: null,
});
const metrics = (step: number, textual: number, highQualityGrounded: number): MetricsRecord => ({
  v: 1,
  step,
  time: 0,
  reward: {},
  terms: {},
  accuracy: { textual },
  kl: 0,
  clipFraction: 0,
  loss: 0,
  gradNorm: 0,
  responseLength: {},
  tokensPerSecond: 0,
  phases: {},
  highQualityGrounded,
});

test('rows are ordered only when their 95% intervals do not overlap', () => {
  assert.equal(compareRows(row('a', 'textual', 0.6), row('b', 'textual', 0.4)), 'higher');
  assert.equal(compareRows(row('a', 'textual', 0.3), row('b', 'textual', 0.5)), 'lower');
  assert.equal(compareRows(row('a', 'textual', 0.5), row('b', 'textual', 0.45)), 'overlap');
});

test('findings compare textual accuracy with the warm start and the ablation, and each mode with textual', () => {
  const rows = [
    row('sft', 'textual', 0.3),
    row('ivgr', 'textual', 0.5),
    row('ivgr-cons0', 'textual', 0.45),
    row('ivgr', 'grounded', 0.52),
    row('ivgr', 'tool', 0.2),
  ];
  const lines = demoFindings({ rows, metrics: [], sft: 'sft', full: 'ivgr', ablation: 'ivgr-cons0' });
  assert.match(lines[0]!, /ivgr vs sft: 50\.0% \[45\.0%, 55\.0%\] vs 30\.0% .*\+20\.0 points; higher, beyond the 95% intervals/);
  assert.match(lines[1]!, /ivgr vs ivgr-cons0: .*\+5\.0 points; the 95% intervals overlap/);
  assert.ok(lines.some((l) => /^ivgr: grounded vs textual: 52\.0%/.test(l)));
  assert.ok(lines.some((l) => /^ivgr: tool vs textual: .*−30\.0 points; lower/.test(l)));
});

test('a run whose grounded traces never qualified says the consistency term had nothing to act on', () => {
  const lines = demoFindings({ rows: [], metrics: [metrics(1, 0.2, 0), metrics(2, 0.3, 0)], sft: 'sft', full: 'ivgr', ablation: null });
  assert.match(lines[0]!, /no grounded trace .* in any of 2 steps/);
  assert.match(lines[1]!, /20\.0% in the first 1 steps, 30\.0% in the last 1/);
  const active = demoFindings({ rows: [], metrics: [metrics(1, 0.2, 3), metrics(2, 0.3, 0)], sft: 'sft', full: 'ivgr', ablation: null });
  assert.match(active[0]!, /active in 1 of 2 steps \(3 high-quality/);
});
