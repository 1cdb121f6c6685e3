// Export Annotations on real run folders whose config names synthetic datasets (one, or two): an
// annotated rollout or eval sample becomes a failure case carrying its dataset's reference answer,
// options and family.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnnotationRecord, DatasetRecord, EvalRecord, RolloutRecord } from '../../src/core/types';
import { ensureSyntheticDataset, loadDataset } from '../../src/data';
import { exportAnnotationFiles } from '../../src/extension/annotation-files';
import { runConfigSchema } from '../../src/run/config-schema';
import { createRunDir, runPaths } from '../../src/run/run-dir';
import { annotationRecord, rolloutRecord } from '../unit/helpers/records';

const work = mkdtempSync(join(tmpdir(), 'ivgr-annotation-files-'));
after(() => rmSync(work, { recursive: true, force: true }));

const rollout = (id: string, q: DatasetRecord, over: Partial<RolloutRecord>): RolloutRecord =>
  rolloutRecord(id, {
    step: 3,
    promptId: q.id,
    input: q.question,
    output: `trace ${id}`,
    score: 0,
    image: q.image,
    correct: false,
    tokens: { prompt: 12, completion: 30 },
    time: 1,
    ...over,
  });
const note = (id: string, tags: string[], over: Partial<AnnotationRecord> = {}): AnnotationRecord =>
  annotationRecord(id, tags, { time: 2, ...over });

const evalSample = (id: string, q: DatasetRecord, over: Partial<EvalRecord>): EvalRecord => ({
  v: 1,
  id,
  mode: 'grounded',
  checkpoint: 'step-3',
  engine: 'torch',
  split: 'val',
  promptId: q.id,
  image: q.image,
  question: q.question,
  output: `trace ${id}`,
  answer: 'A',
  expected: q.answer,
  correct: false,
  boxes: [],
  evidence: q.evidence,
  iou: null,
  toolCalls: 0,
  time: 1,
  ...over,
});

/** A run folder on `datasets` (a path: the one `dataset`) with the given records in its event files. */
function runFolder(
  name: string,
  datasets: string | Array<{ path: string; name: string }>,
  rollouts: RolloutRecord[],
  annotations: AnnotationRecord[],
  evals: EvalRecord[] = [],
): string {
  const dir = join(work, 'runs', name);
  const config = runConfigSchema.parse({
    name,
    model: 'builtin:tiny',
    ...(typeof datasets === 'string' ? { dataset: { path: datasets } } : { datasets }),
  });
  createRunDir(dir, { id: name, given: {}, config, engine: 'torch' });
  const p = runPaths(dir);
  appendFileSync(p.event('rollouts'), rollouts.map((r) => JSON.stringify(r) + '\n').join(''));
  appendFileSync(p.event('annotations'), annotations.map((a) => JSON.stringify(a) + '\n').join(''));
  appendFileSync(p.event('eval'), evals.map((e) => JSON.stringify(e) + '\n').join(''));
  return dir;
}

const readJsonl = (file: string): unknown[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);

describe('annotation export on a run folder', () => {
  const data = join(work, 'data');
  const other = join(work, 'other-data');
  let train: DatasetRecord[] = [];
  let otherTrain: DatasetRecord[] = [];

  before(async () => {
    // No free-form questions, so every record has options to carry over.
    const trainSplit = async (dir: string, seed: number, train: number, size: number) => {
      await ensureSyntheticDataset(dir, { seed, counts: { train, val: 1, test: 0 }, size, convention: 'qwen2-1000', freeFormRatio: 0 });
      return (await loadDataset(dir, { split: 'train' })).records;
    };
    train = await trainSplit(data, 5, 3, 256);
    assert.equal(train.length, 3);
    otherTrain = await trainSplit(other, 6, 2, 192);
  });

  it('writes an annotated failing rollout as a failure case with its reference answer, options and family', async () => {
    const q = train[1]!;
    const wrong = q.answer === 'A' ? 'B' : 'A';
    const dir = runFolder(
      'failures',
      data,
      [rollout('r-bad', q, { answer: wrong }), rollout('r-good', q, { answer: q.answer, correct: true, score: 1 })],
      [note('r-bad', ['wrong-region'], { note: 'looks at a distractor' })],
    );
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
    // The image is named by its file, so the export is usable away from the run folder.
    assert.deepEqual([record!.image, record!.width, record!.height], [join(data, q.image), q.width, q.height]);
    assert.ok(existsSync(record!.image));
    assert.deepEqual(record!.evidence, q.evidence);
    assert.equal(record!.split, 'failures');
    assert.deepEqual(record!.meta, { source: 'rollout:r-bad', tags: 'wrong-region', note: 'looks at a distractor', correctedBoxes: false });
    // The same annotation pairs with the correct trace of the question for DPO.
    const dpo = written.find((w) => w.format === 'dpo')!;
    assert.deepEqual(
      (readJsonl(dpo.file) as Array<{ chosen: string; rejected: string }>).map((l) => [l.chosen, l.rejected]),
      [['trace r-good', 'trace r-bad']],
    );
  });

  it('says why rollouts are skipped when the run dataset cannot be read', async () => {
    const q = train[0]!;
    const dir = runFolder('moved-dataset', join(work, 'moved'), [rollout('r-bad', q, {})], [note('r-bad', ['format'])]);
    const { written, warnings } = await exportAnnotationFiles(dir, ['failures']);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^run\.json config dataset \(.*moved\): dataset not found: .*moved; its rollouts have no reference answer$/);
    assert.match(warnings[1]!, /not found under .*; failure cases name it as the run does$/);
    assert.equal(written[0]!.n, 0);
    assert.deepEqual(written[0]!.skipped, [`rollout r-bad: question ${q.id} has no known image and size`]);
  });

  it('on a run with two datasets, finds each annotated question in its own dataset by its <name>/<id>', async () => {
    const left = train[0]!;
    const right = otherTrain[1]!;
    // As the worker names them: prefixed ids, images from the folder holding both datasets.
    const inRun = (name: string, dir: string, q: DatasetRecord): DatasetRecord => ({
      ...q,
      id: `${name}/${q.id}`,
      image: join(dir, q.image),
    });
    const l = inRun('left', 'data', left);
    const r = inRun('right', 'other-data', right);
    const dir = runFolder(
      'two-datasets',
      [
        { path: data, name: 'left' },
        { path: other, name: 'right' },
      ],
      [rollout('r-bad', r, { answer: right.answer === 'A' ? 'B' : 'A' })],
      [note('r-bad', ['wrong-region']), { ...note('e-bad', ['hallucinated-box']), target: { kind: 'eval', id: 'e-bad' } }],
      [evalSample('e-bad', l, { answer: left.answer === 'A' ? 'B' : 'A' })],
    );
    const { written, warnings } = await exportAnnotationFiles(dir, ['failures']);
    assert.deepEqual(warnings, []);
    assert.deepEqual(written[0]!.skipped, []);
    const records = readJsonl(written[0]!.file) as DatasetRecord[];
    assert.deepEqual(records.map((x) => x.id).sort(), [l.id, r.id]);
    for (const [want, source] of [
      [l, 'eval:e-bad'],
      [r, 'rollout:r-bad'],
    ] as const) {
      const got = records.find((x) => x.id === want.id)!;
      assert.equal(got.meta?.source, source);
      assert.deepEqual(
        [got.image, got.width, got.height, got.question, got.answer, got.family],
        [join(work, want.image), want.width, want.height, want.question, want.answer, want.family],
      );
      assert.deepEqual(got.options, want.options);
      assert.deepEqual(got.evidence, want.evidence);
    }
    assert.notDeepEqual(left.evidence, right.evidence, 'the two questions are told apart by their own records');
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
