// `ivgr pretrain` as a real process on the project's Python environment: a short run from random
// weights lowers the held-out perception loss, Ctrl-C pauses it with a checkpoint, `ivgr resume`
// finishes it, and the model it writes is a folder the engine loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRunJson } from '../../src/run/run-dir';
import { listCheckpoints } from '../../src/run/checkpoints';
import { createTorchEngine } from '../../src/engine/torch';
import { cliProcesses } from './fixtures/cli-process';
import { scratch } from './fixtures/scratch';

const { root } = scratch('ivgr-pretrain-');
const ivgr = cliProcesses();

const recipe = join(root, 'recipe.yaml');
writeFileSync(
  recipe,
  `name: tiny-perception
batchSize: 8
heldOut: 8
evalEvery: 20
checkpointEvery: 10
optimizer: { learningRate: 2.0e-3, warmupSteps: 5 }
aux: { word: 1 }
stages:
  - name: single
    steps: 30
    pool: 64
    scene: { targetScale: 0.3, distractors: { min: 0, max: 0 }, clutter: false, tasks: [colour, shape] }
  - name: pair
    steps: 10
    pool: 32
    scene: { targetScale: 0.25, distractors: { min: 1, max: 1 }, tasks: [colour, place, box, word] }
`,
);

interface Line {
  step: number;
  loss: number;
  perception?: Record<string, number>;
  pretrain?: { stage: string; losses?: Record<string, number> };
}
const metrics = (dir: string): Line[] =>
  readFileSync(join(dir, 'events', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

test(
  'pretraining lowers held-out perception loss, pauses on Ctrl-C with a checkpoint and resumes to a loadable model',
  { timeout: 600_000 },
  async () => {
    const runDir = join(root, 'runs', 'p');
    const first = ivgr(['pretrain', recipe, '--runs-dir', join(root, 'runs'), '--run-id', 'p']);
    // Pause once the first checkpoint is on disk.
    const deadline = Date.now() + 300_000;
    while (!existsSync(join(runDir, 'checkpoints', '10', 'pretrain-state.pt'))) {
      assert.ok(first.child.exitCode === null, `pretrain exited early:\n${first.stderr()}`);
      assert.ok(Date.now() < deadline, `no checkpoint:\n${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    first.child.kill('SIGINT');
    assert.equal(await first.exit, 0, first.stderr());
    assert.equal(readRunJson(runDir).status, 'paused');
    assert.match(first.stderr(), /paused at step \d+/);
    const pausedAt = Math.max(...metrics(runDir).map((m) => m.step));
    assert.ok(pausedAt < 40, `paused at ${pausedAt}`);

    const second = ivgr(['resume', runDir]);
    assert.equal(await second.exit, 0, second.stderr());
    assert.match(second.stderr(), /from step \d+ of 40/);
    const run = readRunJson(runDir);
    assert.equal(run.status, 'finished');
    assert.equal(run.kind, 'pretrain');
    assert.equal(run.step, 40);
    // Its checkpoints are listed like a training run's (the pretraining keeps the newest two).
    const checkpoints = listCheckpoints(runDir);
    assert.deepEqual(
      checkpoints.map((c) => c.step),
      [30, 40],
    );
    assert.ok(checkpoints.every((c) => c.state.trainer === 'pretrain'));

    // Steps run once each across the pause, and the held-out scores were written at 0, 20 and 40.
    const lines = metrics(runDir);
    const steps = lines.filter((m) => m.step > 0).map((m) => m.step);
    assert.deepEqual(
      steps,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const held = lines.filter((m) => m.perception);
    assert.deepEqual(
      held.map((m) => m.step),
      [0, 20, 40],
    );
    const [start, , end] = held.map((m) => m.perception!.loss!);
    assert.ok(end! < start! * 0.75, `held-out loss ${start} -> ${end}`);
    assert.ok('pair-val.box.iou50' in held[2]!.perception!, JSON.stringify(held[2]!.perception));

    // The final model is a plain model folder: no training aids, and the engine loads it.
    const model = join(runDir, 'model');
    assert.ok(existsSync(join(model, 'model.safetensors')));
    assert.ok(!existsSync(join(model, 'pretrain-state.pt')));
    // Beside it, the model card with the digest of these weights and the command that made them.
    const card = readFileSync(join(model, 'README.md'), 'utf8');
    const digest = createHash('sha256')
      .update(readFileSync(join(model, 'model.safetensors')))
      .digest('hex');
    assert.ok(card.includes(digest), "the card carries the weights' sha256");
    assert.match(card, /npx ivgr pretrain .*recipe\.yaml/);
    assert.match(card, /## Held-out perception \(step 40\)/);
    const ivgrJson = JSON.parse(readFileSync(join(model, 'ivgr.json'), 'utf8')) as { coordConvention: string; imageSize: number };
    assert.equal(ivgrJson.coordConvention, 'qwen2-1000');
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { rope_theta: number };
    assert.equal(config.rope_theta, 10);
    const engine = createTorchEngine({ log: () => {} });
    try {
      const info = await engine.load({ model, seed: 1 });
      assert.equal(info.coordConvention, 'qwen2-1000');
      assert.equal(info.imageSize, 224);
    } finally {
      await engine.shutdown();
    }
  },
);

test('a recipe with an unknown field is refused with its file and line, and no run folder is left', async () => {
  const bad = join(root, 'bad.yaml');
  writeFileSync(bad, 'stages:\n  - name: a\n    steps: 5\n    sceen: {}\n');
  const p = ivgr(['pretrain', bad, '--runs-dir', join(root, 'runs-bad')]);
  assert.equal(await p.exit, 2);
  assert.match(p.stderr(), /bad\.yaml:4: stages\.0\.sceen: unknown field/);
  assert.ok(!existsSync(join(root, 'runs-bad')));
});

test(
  'text-only match and copy stages train without images (the copy aid on), a later stage replays them in batches with pictures (the separation and finder aids on), and a trace stage trains its region words',
  { timeout: 600_000 },
  async () => {
    const file = join(root, 'match.yaml');
    writeFileSync(
      file,
      `name: tiny-match
batchSize: 8
heldOut: 8
evalEvery: 20
checkpointEvery: 20
optimizer: { learningRate: 2.0e-3, warmupSteps: 5 }
model: { ropeTheta: 100 }
aux: { copy: 1, separate: 1, find: 1, region: 1 }
positionJitter: 8
stages:
  - name: match
    steps: 20
    pool: 64
    scene: { tasks: [match] }
  - name: copy
    steps: 4
    pool: 16
    scene: { tasks: [copy], optionsRatio: 0.5 }
  - name: colour
    steps: 4
    pool: 16
    replay: 0.5
    scene: { targetScale: 0.3, distractors: { min: 1, max: 1 }, clutter: false, tasks: [colour] }
  - name: traces
    steps: 4
    pool: 16
    scene: { targetScale: 0.3, distractors: { min: 1, max: 1 }, clutter: false, tasks: [trace], families: [attribute] }
`,
    );
    const runDir = join(root, 'runs', 'm');
    const p = ivgr(['pretrain', file, '--runs-dir', join(root, 'runs'), '--run-id', 'm']);
    assert.equal(await p.exit, 0, p.stderr());
    assert.equal(readRunJson(runDir).status, 'finished');
    // Nothing is drawn for a text-only pool; its questions carry the given start of the answer.
    assert.equal(existsSync(join(runDir, 'data', 'match')), false);
    const first = JSON.parse(readFileSync(join(runDir, 'data', 'match.jsonl'), 'utf8').split('\n')[0]!) as {
      image?: string;
      questions: { prefix: string; answer: string }[];
    };
    assert.equal(first.image, undefined, 'a text-only pool line names no image');
    assert.match(first.questions[0]!.prefix, /It matches option$/);
    assert.equal(existsSync(join(runDir, 'data', 'copy')), false);
    for (const line of readFileSync(join(runDir, 'data', 'copy.jsonl'), 'utf8')
      .trim()
      .split('\n')) {
      const q = (JSON.parse(line) as { questions: { question: string; answer: string }[] }).questions[0]!;
      assert.ok(q.question.startsWith(`Repeat the question: ${q.answer}`), `${q.question} -> ${q.answer}`);
    }
    const copying = metrics(runDir).filter((m) => m.pretrain?.stage === 'copy');
    assert.ok(
      copying.length > 0 && copying.every((m) => Number.isFinite(m.pretrain!.losses!.copy)),
      'the copy aid is trained on the copy stage',
    );
    const pictured = metrics(runDir).filter((m) => m.pretrain?.stage === 'colour');
    assert.ok(
      pictured.length > 0 && pictured.every((m) => Number.isFinite(m.pretrain!.losses!.separate)),
      'the separation aid is trained where a picture holds another object',
    );
    assert.ok(
      pictured.every((m) => Number.isFinite(m.pretrain!.losses!.find)),
      'the finder aid is trained where a picture holds another object',
    );
    assert.ok(
      copying.every((m) => m.pretrain!.losses!.separate === undefined && m.pretrain!.losses!.find === undefined),
      'a text-only batch has no objects to separate or find',
    );
    const traced = metrics(runDir).filter((m) => m.pretrain?.stage === 'traces');
    assert.ok(
      traced.length > 0 && traced.every((m) => Number.isFinite(m.pretrain!.losses!.region)),
      'the region words are trained in a trace stage',
    );
    assert.ok(
      pictured.every((m) => m.pretrain!.losses!.region === undefined),
      'a colour question has no trace whose region words to weight',
    );
    const held = metrics(runDir).filter((m) => m.perception);
    assert.deepEqual(
      held.map((m) => m.step),
      [0, 20, 32],
    );
    assert.ok(
      ['match-val.match', 'copy-val.copy', 'colour-val.colour', 'traces-val.trace.textual'].every((k) => k in held[2]!.perception!),
      JSON.stringify(held[2]!.perception),
    );
    const [start, mid] = held.map((m) => m.perception!.loss!);
    assert.ok(mid! < start!, `held-out loss ${start} -> ${mid}`);
  },
);

test("a run from `init` keeps that model's M-RoPE base, and its card says so", { timeout: 600_000 }, async () => {
  const file = join(root, 'init.yaml');
  // The model of the match test (base 100); this recipe's own `model:` defaults (base 10) do not apply.
  writeFileSync(
    file,
    `name: tiny-init
init: ./runs/m/model
batchSize: 4
heldOut: 4
evalEvery: 2
stages:
  - name: colour
    steps: 2
    pool: 8
    scene: { targetScale: 0.3, distractors: { min: 0, max: 0 }, clutter: false, tasks: [colour] }
`,
  );
  assert.equal(readRunJson(join(root, 'runs', 'm')).status, 'finished', 'the match test ran first');
  const p = ivgr(['pretrain', file, '--runs-dir', join(root, 'runs'), '--run-id', 'i']);
  assert.equal(await p.exit, 0, p.stderr());
  const model = join(root, 'runs', 'i', 'model');
  const hf = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { rope_theta?: number; text_config?: { rope_theta?: number } };
  assert.equal(hf.rope_theta ?? hf.text_config?.rope_theta, 100);
  const card = readFileSync(join(model, 'README.md'), 'utf8');
  assert.match(card, /trained further by `ivgr pretrain`/);
  assert.match(card, /Input 224 × 224 px \(64 visual tokens\), boxes written in qwen2-1000, M-RoPE base 100\./);
});
