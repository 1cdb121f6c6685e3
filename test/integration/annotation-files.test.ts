// Export Annotations on a real run folder whose config names a synthetic dataset: an annotated
// rollout becomes a failure case carrying the dataset's reference answer, options and family.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnnotationRecord, DatasetRecord, RolloutRecord } from '../../src/core/types';
import { ensureSyntheticDataset, loadDataset } from '../../src/data';
import { exportAnnotationFiles } from '../../src/extension/annotation-files';
import { runConfigSchema } from '../../src/run/config-schema';
import { createRunDir, runPaths } from '../../src/run/run-dir';

const work = mkdtempSync(join(tmpdir(), 'ivgr-annotation-files-'));
after(() => rmSync(work, { recursive: true, force: true }));

const rollout = (id: string, q: DatasetRecord, over: Partial<RolloutRecord>): RolloutRecord => ({
  v: 1, id, step: 3, stream: 'textual', promptId: q.id, sample: 0, input: q.question, output: `trace ${id}`, score: 0, image: q.image,
  answer: 'A', correct: false, boxes: [], rewards: {}, advantage: 0, tokens: { prompt: 12, completion: 30 }, finish: 'stop', time: 1, ...over,
});
const note = (id: string, tags: string[], over: Partial<AnnotationRecord> = {}): AnnotationRecord => ({ v: 1, target: { kind: 'rollout', id }, tags, note: '', correctedBoxes: [], time: 2, ...over });

/** A run folder on `datasetPath` with the given rollouts and annotations in its event files. */
function runFolder(name: string, datasetPath: string, rollouts: RolloutRecord[], annotations: AnnotationRecord[]): string {
  const dir = join(work, 'runs', name);
  const config = runConfigSchema.parse({ name, model: 'builtin:tiny', dataset: { path: datasetPath } });
  createRunDir(dir, { id: name, given: {}, config, engine: 'torch' });
  const p = runPaths(dir);
  appendFileSync(p.event('rollouts'), rollouts.map((r) => JSON.stringify(r) + '\n').join(''));
  appendFileSync(p.event('annotations'), annotations.map((a) => JSON.stringify(a) + '\n').join(''));
  return dir;
}

const readJsonl = (file: string): unknown[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);

describe('annotation export on a run folder', () => {
  const data = join(work, 'data');
  let train: DatasetRecord[] = [];

  before(async () => {
    // No free-form questions, so every record has options to carry over.
    await ensureSyntheticDataset(data, { seed: 5, counts: { train: 3, val: 1, test: 0 }, size: 256, convention: 'qwen2-1000', freeFormRatio: 0 });
    train = (await loadDataset(data, { split: 'train' })).records;
    assert.equal(train.length, 3);
  });

  it('writes an annotated failing rollout as a failure case with its reference answer, options and family', async () => {
    const q = train[1]!;
    const wrong = q.answer === 'A' ? 'B' : 'A';
    const dir = runFolder('failures', data, [rollout('r-bad', q, { answer: wrong }), rollout('r-good', q, { answer: q.answer, correct: true, score: 1 })], [note('r-bad', ['wrong-region'], { note: 'looks at a distractor' })]);
    const { written, warnings } = await exportAnnotationFiles(dir, ['failures', 'dpo']);
    assert.deepEqual(warnings, []);
    const failures = written.find((w) => w.format === 'failures')!;
    assert.equal(failures.file, join(dir, 'exports', 'annotations-failures.jsonl'));
    assert.deepEqual(failures.skipped, []);
    assert.equal(failures.n, 1);
    const [record] = readJsonl(failures.file) as DatasetRecord[];
    assert.equal(record!.id, q.id);
    assert.equal(record!.answer, q.answer);
    assert.ok(q.options && q.options.length >= 2, 'the synthetic question is multiple choice');
    assert.deepEqual(record!.options, q.options);
    assert.equal(record!.family, q.family);
    assert.equal(record!.question, q.question);
    assert.deepEqual([record!.image, record!.width, record!.height], [q.image, q.width, q.height]);
    assert.deepEqual(record!.evidence, q.evidence);
    assert.equal(record!.split, 'failures');
    assert.deepEqual(record!.meta, { source: 'rollout:r-bad', tags: 'wrong-region', note: 'looks at a distractor', correctedBoxes: false });
    // The same annotation pairs with the correct trace of the question for DPO.
    const dpo = written.find((w) => w.format === 'dpo')!;
    assert.deepEqual((readJsonl(dpo.file) as Array<{ chosen: string; rejected: string }>).map((l) => [l.chosen, l.rejected]), [['trace r-good', 'trace r-bad']]);
  });

  it('says why rollouts are skipped when the run dataset cannot be read', async () => {
    const q = train[0]!;
    const dir = runFolder('moved-dataset', join(work, 'moved'), [rollout('r-bad', q, {})], [note('r-bad', ['format'])]);
    const { written, warnings } = await exportAnnotationFiles(dir, ['failures']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /dataset .*moved could not be read, so rollouts have no reference answer: dataset not found/);
    assert.equal(written[0]!.n, 0);
    assert.deepEqual(written[0]!.skipped, [`rollout r-bad: question ${q.id} has no known image and size`]);
  });

  it('writes nothing once cancelled', async () => {
    const q = train[2]!;
    const dir = runFolder('cancelled', data, [rollout('r-bad', q, {})], [note('r-bad', ['other'])]);
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(exportAnnotationFiles(dir, ['sft', 'dpo', 'failures'], abort.signal), { name: 'AbortError' });
    assert.equal(existsSync(join(dir, 'exports')), false);
  });
});
