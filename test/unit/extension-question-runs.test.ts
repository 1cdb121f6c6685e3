import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuestionAcrossRuns, type RunRef } from '../../src/extension/panel/question-runs';
import { writeFixtureRun, type FixtureRun } from '../webview/harness/fixture';

let root: string;
let a: FixtureRun;
let b: FixtureRun;
let runs: RunRef[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ivgr-question-runs-'));
  a = await writeFixtureRun(root, { steps: 3, prompts: 2, samples: 2, bigImage: false });
  b = await writeFixtureRun(root, { id: 'run-b', name: 'run B', steps: 5, prompts: 2, samples: 2, dataset: a.datasetDir, seed: 99 });
  // Same data, but configured through another path spelling: still the same dataset.
  const c = await writeFixtureRun(root, { id: 'run-c', steps: 1, prompts: 2, samples: 1, dataset: join(a.datasetDir, '..', 'dataset') });
  appendFileSync(
    join(c.runDir, 'events', 'rollouts.jsonl'),
    JSON.stringify({ id: 'broken', step: 2, stream: 'grounded', promptId: 'q1', score: 1 }) + '\n',
  );
  const other = join(root, 'other');
  mkdirSync(join(other, 'events'), { recursive: true });
  writeFileSync(
    join(other, 'run.json'),
    JSON.stringify({ id: 'other', status: 'stopped', config: { dataset: { path: join(root, 'another-dataset') } } }),
  );
  const imported = join(root, 'imported');
  mkdirSync(join(imported, 'events'), { recursive: true });
  writeFileSync(
    join(imported, 'events', 'rollouts.jsonl'),
    b.rollouts
      .slice(0, 2)
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  runs = [
    { id: 'fixture-run', dir: a.runDir },
    { id: 'run-b', name: 'run B', dir: b.runDir },
    { id: 'run-c', dir: c.runDir },
    { id: 'other', dir: other },
    { id: 'imported', dir: imported },
  ];
});

after(() => rmSync(root, { recursive: true, force: true }));

/** The runs that answered, in the order they answered. */
const runIds = (answers: readonly { run: { id: string } }[]): string[] => answers.map((o) => o.run.id);

test('only the other runs on the same dataset are compared; two runs with one id stay apart', () => {
  const q = new QuestionAcrossRuns(a.runDir);
  assert.deepEqual(
    q.matching(runs).map((r) => r.key),
    ['run-b', 'run-c'],
  );
  assert.deepEqual(
    q.matching([...runs, { id: 'run-b', dir: join(root, 'run-c') }]).map((r) => r.key),
    ['run-b', 'run-c', 'run-b#2'],
  );
  assert.deepEqual(new QuestionAcrossRuns(join(root, 'other')).matching(runs), [], 'nobody else trains on the other dataset');
});

test('a question in another run: its latest step of both streams and its evaluations across checkpoints', async () => {
  const q = new QuestionAcrossRuns(a.runDir);
  const [inB] = await q.question('q1', runs.slice(0, 2));
  assert.ok(inB);
  assert.deepEqual(inB.run, { id: 'run-b', name: 'run B' });
  const ofQ1 = b.rollouts.filter((r) => r.promptId === 'q1');
  assert.equal(inB.total, ofQ1.length);
  assert.equal(inB.step, 5);
  assert.deepEqual(
    inB.rollouts.map((r) => r.id).sort(),
    ofQ1
      .filter((r) => r.step === 5)
      .map((r) => r.id)
      .sort(),
  );
  assert.deepEqual(new Set(inB.rollouts.map((r) => r.stream)), new Set(['grounded', 'textual']));
  assert.deepEqual(
    inB.evals.map((e) => e.id),
    b.evals.filter((e) => e.promptId === 'q1').map((e) => e.id),
  );
  assert.equal(inB.error, undefined);
  // The records are run B's own, not this run's records of the same ids.
  const mine = ofQ1.find((r) => r.step === 5)!;
  assert.deepEqual(await q.rollout('run-b', mine.id, runs), mine);
});

test('a run that cannot be read says why, the others still answer; an unknown run is refused by name', async () => {
  const q = new QuestionAcrossRuns(a.runDir);
  const answers = await q.question('q1', runs);
  assert.deepEqual(runIds(answers), ['run-b', 'run-c']);
  const c = answers[1]!;
  assert.match(c.error ?? '', /rollouts\.jsonl @\d+: rollout "broken" invalid at v/);
  assert.deepEqual([c.total, c.step, c.rollouts.length], [0, null, 0]);
  assert.equal(answers[0]!.error, undefined);
  await assert.rejects(q.rollout('other', 'x', runs), /run "other" is not a run of the workspace on this run's dataset/);
  const none = await q.question('q-unknown', runs.slice(0, 2));
  assert.deepEqual([none[0]!.total, none[0]!.step, none[0]!.rollouts, none[0]!.evals], [0, null, [], []]);
});

/** Rewrites a fixture run on `a`'s data into one on two datasets, as the worker names their records. */
function onTwoDatasets(run: FixtureRun): void {
  const rename = <T extends { promptId: string; image?: string }>(r: T): T => ({
    ...r,
    promptId: `shapes/${r.promptId}`,
    ...(r.image ? { image: join('dataset', r.image) } : {}),
  });
  writeFileSync(
    join(run.runDir, 'run.json'),
    JSON.stringify({
      id: 'run-m',
      status: 'stopped',
      config: {
        datasets: [
          { path: join(root, 'second'), name: 'second' },
          { path: a.datasetDir, name: 'shapes' },
        ],
      },
    }),
  );
  writeFileSync(join(run.runDir, 'events', 'rollouts.jsonl'), run.rollouts.map((r) => JSON.stringify(rename(r))).join('\n') + '\n');
  writeFileSync(join(run.runDir, 'events', 'eval.jsonl'), run.evals.map((e) => JSON.stringify(rename(e))).join('\n') + '\n');
}

test('a question shows across runs on `dataset` and on `datasets`, named as the asking run names it', async () => {
  const m = await writeFixtureRun(root, { id: 'run-m', steps: 2, prompts: 2, samples: 1, dataset: a.datasetDir, seed: 3 });
  onTwoDatasets(m);
  const all = [...runs.slice(0, 2), { id: 'run-m', dir: m.runDir }];
  const image = a.prompts.find((p) => p.id === 'q1')!.image;

  // From the one-dataset run: run M's "shapes/q1" is its q1, with the image path of its own root.
  const fromA = await new QuestionAcrossRuns(a.runDir).question('q1', all);
  assert.deepEqual(runIds(fromA), ['run-b', 'run-m']);
  const inM = fromA[1]!;
  assert.equal(inM.error, undefined);
  assert.equal(inM.step, 2);
  assert.equal(inM.total, m.rollouts.filter((r) => r.promptId === 'q1').length);
  assert.deepEqual(new Set(inM.rollouts.map((r) => `${r.promptId} ${r.image}`)), new Set([`q1 ${image}`]));
  assert.deepEqual(
    inM.evals.map((e) => [e.id, e.promptId, e.image]),
    m.evals.filter((e) => e.promptId === 'q1').map((e) => [e.id, 'q1', image]),
  );

  // From the two-dataset run: the question's dataset is the one its prefix names.
  const q = new QuestionAcrossRuns(m.runDir);
  const fromM = await q.question('shapes/q1', all);
  assert.deepEqual(runIds(fromM), ['fixture-run', 'run-b']);
  const inA = fromM[0]!;
  assert.deepEqual(
    inA.rollouts.map((r) => r.id).sort(),
    a.rollouts
      .filter((r) => r.promptId === 'q1' && r.step === 3)
      .map((r) => r.id)
      .sort(),
  );
  assert.deepEqual(new Set(inA.rollouts.map((r) => `${r.promptId} ${r.image}`)), new Set([`shapes/q1 ${join('dataset', image)}`]));
  const one = inA.rollouts[0]!;
  assert.deepEqual(await q.rollout('fixture-run', one.id, all), one, 'an opened rollout is named as the list named it');
  assert.deepEqual(await q.question('second/q1', all), [], 'no other run trains on the second dataset');
  assert.deepEqual(await q.question('q1', all), [], 'an id without a dataset prefix names no dataset of this run');
});
