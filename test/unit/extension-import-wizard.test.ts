// The Import Rollout Dump questions against a scripted prompter and fake file dialogs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importFlags, importWizard, type ImportPathKind } from '../../src/extension/import-wizard';
import type { PickItem, Prompter } from '../../src/extension/wizards';

function scripted(picks: Array<string | null>): { p: Prompter; titles: string[] } {
  const titles: string[] = [];
  const p: Prompter = {
    async pick<T>(title: string, items: PickItem<T>[]) {
      titles.push(title);
      const label = picks.shift();
      if (label === undefined) throw new Error('asked more than the script answers');
      if (label === null) return undefined;
      const item = items.find((i) => i.label === label);
      if (!item) throw new Error(`no item ${label}: ${items.map((i) => i.label).join(', ')}`);
      return item.value;
    },
    pickMany: () => Promise.reject(new Error('not asked')),
    input: () => Promise.reject(new Error('not asked')),
  };
  return { p, titles };
}

const dialogs = (paths: Partial<Record<ImportPathKind, string>>) => {
  const asked: ImportPathKind[] = [];
  return { asked, choose: async (k: ImportPathKind) => (asked.push(k), paths[k]) };
};

test('a followed verl folder with a parquet dataset and Qwen2.5-VL boxes becomes --follow --images --convention', async () => {
  const { p } = scripted([
    'A verl rollout_data_dir',
    'Follow it',
    'Join images from a dataset…',
    'Qwen2.5-VL: absolute pixels of the resized input',
  ]);
  const d = dialogs({ folder: '/w/rollouts', dataset: '/w/data/train.parquet' });
  const r = await importWizard(p, d.choose);
  assert.deepEqual(r, { source: '/w/rollouts', follow: true, images: '/w/data/train.parquet', convention: 'qwen25-abs' });
  assert.deepEqual(d.asked, ['folder', 'dataset']);
  assert.deepEqual(importFlags(r!), ['--follow', '--images', '/w/data/train.parquet', '--convention', 'qwen25-abs']);
});

test('a dump file imported once without images passes only its convention; closing any step cancels', async () => {
  const once = await importWizard(
    scripted(['A dump file', 'Import once', 'No images', 'Qwen2-VL: 0–1000 grid']).p,
    dialogs({ file: '/w/dump.jsonl' }).choose,
  );
  assert.deepEqual(once, { source: '/w/dump.jsonl', follow: false, convention: 'qwen2-1000' });
  assert.deepEqual(importFlags(once!), ['--convention', 'qwen2-1000']);
  assert.equal(
    await importWizard(scripted(['A dump file', 'Import once', 'No images', null]).p, dialogs({ file: '/w/dump.jsonl' }).choose),
    undefined,
    'the convention question closed',
  );
  assert.equal(await importWizard(scripted([null]).p, dialogs({}).choose), undefined);
  assert.equal(await importWizard(scripted(['A dump file']).p, dialogs({}).choose), undefined, 'the file dialog closed');
  assert.equal(
    await importWizard(scripted(['A dump file', 'Import once', 'Join images from a dataset…']).p, dialogs({ file: '/w/d.jsonl' }).choose),
    undefined,
  );
});
