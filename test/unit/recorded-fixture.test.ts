/**
 * The run recorded from the worker for the panel tests (test/webview/fixtures/recorded-run) still
 * reads under today's record schemas and loaders. When a schema changes, this fails and says to
 * re-record it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import { evalRecordSchema, evalSummaryRowSchema, metricsRecordSchema, rolloutRecordSchema } from '../../src/core/protocol/webview';
import { loadDataset } from '../../src/data';
import { readRunFiles } from '../../src/extension/run-files';
import { listCheckpoints } from '../../src/run/checkpoints';
import { runConfigSchema } from '../../src/run/config-schema';
import { readRunJson } from '../../src/run/run-dir';
import { RECORDED_RUN, recordedLines } from '../webview/harness/recorded';

const RERECORD = 're-record it with: node --import tsx test/webview/harness/record-fixture.ts';

function check(file: string, schema: z.ZodType, lines: string[]): void {
  assert.ok(lines.length > 0, `${file} is empty; ${RERECORD}`);
  lines.forEach((line, i) => {
    const r = schema.safeParse(JSON.parse(line));
    assert.ok(r.success, `${file}:${i + 1} no longer matches its schema: ${r.success ? '' : r.error.message}\n${RERECORD}`);
  });
}

test('every recorded rollout, metrics and evaluation line matches the current record schemas', () => {
  check('events/rollouts.jsonl', rolloutRecordSchema, recordedLines('rollouts'));
  check('events/metrics.jsonl', metricsRecordSchema, recordedLines('metrics'));
  check('events/eval.jsonl', evalRecordSchema, recordedLines('eval'));
  const summary = JSON.parse(readFileSync(join(RECORDED_RUN.runDir, 'eval-summary.json'), 'utf8')) as { rows: unknown[] };
  check(
    'eval-summary.json rows',
    evalSummaryRowSchema,
    summary.rows.map((r) => JSON.stringify(r)),
  );
});

test('the recorded run holds both streams, several steps and the three evaluation modes', () => {
  const rollouts = recordedLines('rollouts').map((l) => rolloutRecordSchema.parse(JSON.parse(l)));
  assert.deepEqual([...new Set(rollouts.map((r) => r.stream))].sort(), ['grounded', 'textual']);
  assert.ok(
    rollouts.some((r) => r.stream === 'grounded' && r.boxes.length > 0),
    `no grounded rollout cites a box; ${RERECORD} with a longer warm start`,
  );
  assert.ok(new Set(recordedLines('metrics').map((l) => metricsRecordSchema.parse(JSON.parse(l)).step)).size >= 3);
  const modes = new Set(recordedLines('eval').map((l) => evalRecordSchema.parse(JSON.parse(l)).mode));
  assert.deepEqual([...modes].sort(), ['grounded', 'textual', 'tool']);
});

test('run.json, its config and the checkpoints index read as the worker writes them, with no machine paths', () => {
  const run = readRunJson(RECORDED_RUN.runDir);
  const config = runConfigSchema.safeParse(run.config);
  assert.ok(
    config.success,
    `run.json config no longer matches the config schema: ${config.success ? '' : config.error.message}\n${RERECORD}`,
  );
  assert.equal(run.configFile, undefined);
  const text = readFileSync(join(RECORDED_RUN.runDir, 'run.json'), 'utf8');
  assert.doesNotMatch(text, /"(\/|[A-Za-z]:\\\\)[^"]*"/, 'run.json names no absolute path');
  const steps = listCheckpoints(RECORDED_RUN.runDir).map((c) => c.step);
  assert.ok(steps.length > 0 && steps.at(-1) === run.step, `checkpoints ${steps.join(', ')} end at the run's step ${run.step}`);
  for (const step of steps)
    assert.deepEqual(
      readdirSync(join(RECORDED_RUN.runDir, 'checkpoints', String(step))),
      ['worker-state.json'],
      'no weights in the fixture',
    );
});

test('the dataset the run points at loads, and holds every question and image its events name', async () => {
  const files = readRunFiles(RECORDED_RUN.runDir);
  assert.ok(
    files.datasetRoot && !isAbsolute(readRunJson(RECORDED_RUN.runDir).config.dataset!.path),
    'the dataset path is relative to the run folder',
  );
  assert.equal(resolve(files.datasetRoot), resolve(RECORDED_RUN.datasetDir));
  const loaded = await loadDataset(files.datasetPath!);
  assert.deepEqual(loaded.skipped, []);
  const ids = new Set(loaded.records.map((r) => r.id));
  const named = [...recordedLines('rollouts'), ...recordedLines('eval')].map((l) => JSON.parse(l) as { promptId: string; image?: string });
  for (const r of named) {
    assert.ok(ids.has(r.promptId), `question ${r.promptId} is in the dataset`);
    assert.ok(r.image && existsSync(join(RECORDED_RUN.datasetDir, r.image)), `image ${r.image} is in the dataset`);
  }
});
