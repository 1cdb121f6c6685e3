// A run over several datasets: training mixes their records with ids prefixed by dataset name
// and image paths from a common root; evaluation reads a split of all of them or of one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runConfigSchema } from '../../src/run/config-schema';
import { openRunData } from '../../src/worker/run-inputs';
import { scratch } from './fixtures/scratch';

const { root: work } = scratch('ivgr-datasets-');

async function jsonlDataset(dir: string, ids: string[]): Promise<void> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#fff' } })
    .png()
    .toFile(join(dir, 'images', 'a.png'));
  const line = (id: string, split: string) =>
    JSON.stringify({
      id,
      image: 'images/a.png',
      question: 'Which colour?',
      options: ['red', 'blue'],
      answer: 'A',
      evidence: [[1, 1, 10, 10]],
      split,
    });
  writeFileSync(join(dir, 'data.jsonl'), [...ids.map((id) => line(id, 'train')), line('q9', 'test')].join('\n') + '\n');
}

test('several datasets: mixed training records with unique prefixed ids, images under one root, eval over all or one', async () => {
  const root = mkdtempSync(join(work, 'datasets-'));
  await jsonlDataset(join(root, 'one'), ['q1', 'q2']);
  await jsonlDataset(join(root, 'sets', 'two'), ['q1']);
  const config = runConfigSchema.parse({
    datasets: [
      { path: join(root, 'one', 'data.jsonl'), name: 'one' },
      { path: join(root, 'sets', 'two', 'data.jsonl'), name: 'two' },
    ],
  });
  const data = await openRunData({}, config, () => undefined);
  assert.equal(data.root, root);
  assert.deepEqual(
    data.train.map((r) => r.id),
    ['one/q1', 'one/q2', 'two/q1'],
  );
  assert.deepEqual(
    data.train.map((r) => r.image),
    [join('one', 'images', 'a.png'), join('one', 'images', 'a.png'), join('sets', 'two', 'images', 'a.png')],
  );
  assert.ok(data.train.every((r) => existsSync(join(data.root, r.image))));
  assert.deepEqual(
    (await data.split('test')).map((r) => r.id),
    ['one/q9', 'two/q9'],
  );
  assert.deepEqual(
    (await data.split('test', 'two')).map((r) => r.id),
    ['two/q9'],
  );
  await assert.rejects(data.split('test', 'three'), /no dataset named 'three' in this run \(its datasets: one, two\)/);

  const missing = runConfigSchema.parse({ datasets: [{ path: join(root, 'one', 'data.jsonl') }, { path: join(root, 'nowhere.jsonl') }] });
  await assert.rejects(
    openRunData({}, missing, () => undefined),
    /config datasets\.1 \(.*nowhere\.jsonl\): /,
  );
  const badFormat = runConfigSchema.parse({ datasets: [{ path: join(root, 'one', 'data.jsonl'), format: 'csv' }] });
  await assert.rejects(
    openRunData({}, badFormat, () => undefined),
    /config datasets\.0\.format: 'csv' is not a dataset format/,
  );
});
