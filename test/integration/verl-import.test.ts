// `ivgr import` as a verl user runs it: a rollout_data_dir with one {step}.jsonl per step taken as
// one run, `--follow` picking up new step files and lines appended to the newest while a client
// watches the control socket, and `--images` joining a parquet dataset (image bytes, by id) or a
// JSONL dataset (image paths, by question text) so Qwen boxes land in image pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { MetricsRecord, RolloutRecord } from '../../src/core/types';
import { ParquetTable } from '../../src/data/loaders/parquet-rows';
import { ControlClient } from '../../src/run/control-client';
import { readAll } from '../../src/run/jsonl-reader';
import { RolloutQueryService } from '../../src/run/rollout-query';
import { readRunJson } from '../../src/run/run-dir';
import { until } from './fixtures/until';
import { cliProcesses, type CliProcess } from './fixtures/cli-process';
import { scratch } from './fixtures/scratch';

const { root } = scratch('ivgr-verl-import-');

const run = cliProcesses();
const ivgr = (args: string[]): CliProcess => run(['import', ...args]);

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const p = ivgr(args);
  const code = await p.exit;
  assert.equal(code, 0, p.stderr());
  return { stdout: p.stdout(), stderr: p.stderr() };
}

const line = (o: object): string => JSON.stringify(o) + '\n';
/** A verl dump line as `_dump_generations` writes it, with the prompt decoded with special tokens. */
const verl = (question: string, output: string, score: number, step: number, extra: object = {}): string =>
  line({
    input: `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|>${'<|image_pad|>'.repeat(64)}<|vision_end|>${question}<|im_end|>\n<|im_start|>assistant\n`,
    output,
    gts: 'A',
    score,
    step,
    acc: score,
    ...extra,
  });

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 160 } } })
    .png()
    .toBuffer();
}

async function rolloutsOf(run: string): Promise<RolloutRecord[]> {
  const q = new RolloutQueryService(run);
  await q.refresh();
  const page = await q.query({}, { key: 'step', dir: 'asc' }, 0, 100);
  const records = await Promise.all(page.rows.map((r) => q.get(r.id)));
  return records.filter((r): r is RolloutRecord => r !== null);
}

test(
  'a verl rollout_data_dir imports as one run: every step file, step order, metrics only of what the dump has',
  { timeout: 60_000 },
  async () => {
    const dir = join(root, 'rollout_data_dir');
    mkdirSync(dir);
    writeFileSync(
      join(dir, '2.jsonl'),
      verl('How many cats?', '<answer>3</answer>', 0, 2) + verl('How many cats?', '<answer>2</answer>', 1, 2),
    );
    writeFileSync(join(dir, '10.jsonl'), verl('How many cats?', '<answer>2</answer>', 1, 10));
    writeFileSync(join(dir, '1.jsonl'), verl('What colour?', '<answer>red</answer>', 1, 1));
    writeFileSync(join(dir, 'notes.txt'), 'not a step file');
    const out = join(root, 'runs', 'dir');
    const r = await ok([dir, '--out', out]);
    assert.equal(r.stdout.trim(), out);
    assert.match(r.stderr, /imported 4 rollouts over 3 steps \(verl\)/);
    const rollouts = await rolloutsOf(out);
    assert.deepEqual(
      rollouts.map((x) => x.step),
      [1, 2, 2, 10],
    );
    assert.equal(new Set(rollouts.map((x) => x.id)).size, 4, 'rows of different step files keep distinct ids');
    assert.deepEqual(
      rollouts.map((x) => x.expected),
      ['A', 'A', 'A', 'A'],
      "verl's gts is kept as each rollout's reference answer",
    );
    assert.match(
      rollouts[0]!.input,
      /<\|vision_start\|><\|image_pad\|>×64<\|vision_end\|>What colour\?/,
      'the image pads show as one token with its count',
    );
    const metrics = (await readAll<MetricsRecord>(join(out, 'events', 'metrics.jsonl'))).records;
    assert.deepEqual(
      metrics.map((m) => m.step),
      [1, 2, 10],
    );
    for (const m of metrics) {
      assert.equal(m.kl, undefined, 'a dump has no KL: none is invented');
      assert.equal(m.clipFraction, undefined);
      assert.equal(m.tokensPerSecond, undefined);
      assert.deepEqual(m.responseLength, {});
    }
    assert.equal(metrics[1]!.reward.textual, 0.5);
    assert.equal(readRunJson(out).status, 'finished');

    // A line of the previous step in the next step's file still joins its step (written again whole).
    const mixed = join(root, 'mixed_dir');
    mkdirSync(mixed);
    writeFileSync(join(mixed, '1.jsonl'), verl('What colour?', '<answer>red</answer>', 1, 1));
    writeFileSync(
      join(mixed, '2.jsonl'),
      verl('What colour?', '<answer>blue</answer>', 0, 1) + verl('How many?', '<answer>2</answer>', 1, 2),
    );
    const m = await ok([mixed, '--out', join(root, 'runs', 'mixed')]);
    assert.match(m.stderr, /imported 3 rollouts over 2 steps \(verl\)$/m);
    assert.deepEqual(
      (await rolloutsOf(join(root, 'runs', 'mixed'))).map((x) => [x.step, x.answer]),
      [
        [1, 'red'],
        [1, 'blue'],
        [2, '2'],
      ],
    );

    const empty = join(root, 'empty_dir');
    mkdirSync(empty);
    const p = ivgr([empty, '--out', join(root, 'runs', 'empty')]);
    assert.equal(await p.exit, 2);
    assert.match(p.stderr(), /no \{step\}\.jsonl files/);
  },
);

test(
  '--follow tails the directory: new step files and lines appended to the newest reach the run and its control socket; Ctrl-C stops',
  { timeout: 90_000 },
  async () => {
    const dir = join(root, 'live_dir');
    mkdirSync(dir);
    writeFileSync(join(dir, '1.jsonl'), verl('What colour?', '<answer>red</answer>', 1, 1));
    const out = join(root, 'runs', 'live');
    const p = ivgr([dir, '--out', out, '--follow']);
    const poll = { timeoutMs: 30_000, intervalMs: 200 };
    await until('step 1 imported', async () => ((await rolloutsOf(out)).length === 1 ? true : undefined), poll);
    const run = readRunJson(out);
    assert.equal(run.status, 'running');
    assert.equal(run.pid, p.child.pid);

    const client = await ControlClient.connect(join(out, 'control.sock'));
    const events: string[] = [];
    client.on('message', (m) => {
      if (m.type === 'event') events.push(`${m.file}:${String(m.record.step)}`);
    });
    assert.equal(client.status.status, 'running');

    // verl appends to the newest step file, then starts the next one.
    appendFileSync(join(dir, '1.jsonl'), verl('What colour?', '<answer>blue</answer>', 0, 1));
    await until('the appended line', async () => ((await rolloutsOf(out)).length === 2 ? true : undefined), poll);
    const step1 = (await rolloutsOf(out)).filter((r) => r.step === 1);
    assert.deepEqual(
      step1.map((r) => r.advantage > 0),
      [true, false],
      'the step is read again whole, so its group advantages cover both lines',
    );
    writeFileSync(join(dir, '2.jsonl'), verl('How many?', '<answer>2</answer>', 1, 2));
    await until('step 2', async () => ((await rolloutsOf(out)).some((r) => r.step === 2) ? true : undefined), poll);
    await until('live events for step 2', () => (events.includes('rollouts:2') && events.includes('metrics:2') ? true : undefined), poll);
    const metrics = (await readAll<MetricsRecord>(join(out, 'events', 'metrics.jsonl'))).records;
    assert.equal(metrics.filter((m) => m.step === 1).at(-1)!.reward.textual, 0.5, "the step's last metrics cover the appended line");
    client.close();

    // verl resumed from the step-1 checkpoint trains step 2 again and writes its file anew.
    writeFileSync(join(dir, '2.jsonl'), verl('How many?', '<answer>3</answer>', 0, 2) + verl('How many?', '<answer>4</answer>', 1, 2));
    await until(
      'step 2 read again',
      async () => {
        const answers = (await rolloutsOf(out)).filter((r) => r.step === 2).map((r) => r.answer);
        return answers.join() === '3,4' ? true : undefined;
      },
      poll,
    );

    p.child.kill('SIGINT');
    assert.equal(await p.exit, 0, p.stderr());
    const end = readRunJson(out);
    assert.equal(end.status, 'stopped');
    assert.equal(end.pid, null);
    assert.equal(end.step, 2);
    assert.equal(end.config.steps, 2, 'the total is the steps the dump holds, not a made-up one');
    assert.match(end.message ?? '', /^stopped following /);
    assert.equal(existsSync(join(out, 'control.sock')), false);
    assert.match(p.stderr(), /step 2 was written anew: its rollouts are read again/);
    assert.match(p.stderr(), /imported 4 rollouts over 2 steps/);
  },
);

test(
  '--images joins a verl parquet by id (image bytes) and a JSONL dataset by question text (image paths); Qwen boxes become image pixels',
  { timeout: 60_000 },
  async () => {
    const data = join(root, 'data');
    mkdirSync(data);
    const parquet = join(data, 'train.parquet');
    writeFileSync(
      parquet,
      Buffer.from(
        parquetWriteBuffer({
          columnData: [
            {
              name: 'prompt',
              data: [[{ role: 'user', content: '<image>Where is the dog?' }], [{ role: 'user', content: '<image>Where is the cat?' }]],
            },
            {
              name: 'images',
              data: [
                [{ bytes: new Uint8Array(await png(640, 480)), path: null }],
                [{ bytes: new Uint8Array(await png(200, 100)), path: null }],
              ],
            },
            { name: 'extra_info', data: [{ index: 7n }, { index: 8n }] },
          ],
          schema: [
            { name: 'root', num_children: 3 },
            { name: 'prompt', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
            { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
            { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
            { name: 'role', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
            { name: 'content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
            { name: 'images', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
            { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
            { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
            { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
            { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
            { name: 'extra_info', repetition_type: 'OPTIONAL', num_children: 1 },
            { name: 'index', type: 'INT64', repetition_type: 'OPTIONAL' },
          ],
        }),
      ),
    );
    const box =
      '<think>the dog <|object_ref_start|>dog<|object_ref_end|><|box_start|>(100,200),(500,600)<|box_end|></think><answer>left</answer>';
    const byId = join(root, 'by_id');
    mkdirSync(byId);
    // The question text differs from the dataset's: only the index can match.
    writeFileSync(
      join(byId, '1.jsonl'),
      verl('Where is the dog? Think first.', box, 1, 1, { index: 7 }) + verl('Unrelated', '<answer>x</answer>', 0, 1, { index: 99 }),
    );
    const out = join(root, 'runs', 'parquet');
    const r = await ok([byId, '--out', out, '--images', parquet]);
    assert.match(r.stderr, /images joined to 1 of 2 rollouts/);
    const [dog, unrelated] = await rolloutsOf(out).then((rs) => rs.sort((a, b) => a.id.localeCompare(b.id)));
    assert.ok(dog!.image && existsSync(join(out, dog!.image)), `the image is inside the run: ${dog!.image}`);
    assert.deepEqual((await sharp(join(out, dog!.image)).metadata()).width, 640);
    assert.deepEqual(dog!.boxes, [[64, 96, 320, 288]], '0..1000 Qwen2-VL coordinates on a 640x480 image');
    assert.equal(dog!.stream, 'grounded');
    assert.equal(unrelated!.image, undefined);

    mkdirSync(join(data, 'img'));
    writeFileSync(join(data, 'img', 'cat.png'), await png(1000, 500));
    const jsonl = join(data, 'questions.jsonl');
    writeFileSync(
      jsonl,
      line({ question: 'Where is the dog?', image: 'img/missing.png' }) + line({ question: 'Where is the cat?', image: 'img/cat.png' }),
    );
    const byText = join(root, 'by_text.jsonl');
    writeFileSync(byText, verl('Where is the cat?', '<|box_start|>(0,0),(500,1000)<|box_end|><answer>right</answer>', 1, 3));
    const out2 = join(root, 'runs', 'jsonl');
    const r2 = await ok([byText, '--out', out2, '--images', jsonl]);
    assert.match(r2.stderr, /images joined to 1 of 1 rollouts/);
    const [cat] = await rolloutsOf(out2);
    assert.ok(cat!.image && existsSync(join(out2, cat!.image)));
    assert.deepEqual(cat!.boxes, [[0, 0, 500, 500]]);

    // A model that writes pixels keeps them.
    const out3 = join(root, 'runs', 'pixels');
    const inPixels = join(root, 'pixels.jsonl');
    writeFileSync(inPixels, verl('Where is the cat?', '<|box_start|>(100,100),(200,200)<|box_end|><answer>right</answer>', 1, 3));
    await ok([inPixels, '--out', out3, '--images', jsonl, '--convention', 'pixels']);
    assert.deepEqual((await rolloutsOf(out3))[0]!.boxes, [[100, 100, 200, 200]]);
    const wrong = ivgr([byText, '--out', join(root, 'runs', 'wrong'), '--convention', 'qwen3']);
    assert.equal(await wrong.exit, 2);
    assert.match(wrong.stderr(), /--convention must be one of qwen2-1000, qwen25-abs, relative, pixels, got 'qwen3'/);

    const bad = join(data, 'bad.jsonl');
    writeFileSync(bad, line({ question: 'Where?' }));
    const p = ivgr([byText, '--out', join(root, 'runs', 'bad'), '--images', bad]);
    assert.equal(await p.exit, 2);
    assert.match(p.stderr(), /bad\.jsonl:1: no image/);
    assert.equal(existsSync(join(root, 'runs', 'bad')), false, 'a bad dataset writes no run');
  },
);

test('a parquet dataset reads its image column for the matched rows only, a row group at a time', async () => {
  const file = join(root, 'groups.parquet');
  const ids = ['a', 'b', 'c', 'd', 'e'];
  writeFileSync(
    file,
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'id', data: ids, type: 'STRING' },
          { name: 'image', data: ids.map((id) => new TextEncoder().encode(`bytes of ${id}`)), type: 'BYTE_ARRAY' },
        ],
        rowGroupSize: 2,
      }),
    ),
  );
  const table = await ParquetTable.open(file);
  assert.deepEqual(table.columns, ['id', 'image']);
  assert.deepEqual(
    (await table.rows(['id'])).map((r) => r.id),
    ids,
  );
  const picked = await table.pick([4, 0, 3], ['image']);
  assert.deepEqual(
    [...picked].map(([i, r]) => [i, new TextDecoder().decode(r.image as Uint8Array)]),
    [
      [0, 'bytes of a'],
      [3, 'bytes of d'],
      [4, 'bytes of e'],
    ],
  );
  await assert.rejects(ParquetTable.open(join(root, 'by_text.jsonl')), /by_text\.jsonl: not a readable parquet file/);
});
