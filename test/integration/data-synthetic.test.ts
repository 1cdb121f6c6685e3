import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ensureSyntheticDataset, loadDataset, type SynthOptions } from '../../src/data';

const tmp = await mkdtemp(join(tmpdir(), 'ivgr-data-synth-'));
after(() => rm(tmp, { recursive: true, force: true }));

const base: SynthOptions = { seed: 3, counts: { train: 4, val: 2, test: 2 }, size: 256, convention: 'qwen2-1000' };

describe('synthetic dataset folder', () => {
  const dir = join(tmp, 'ds');

  it('writes manifest, JSONL per split and PNGs of the recorded sizes', async () => {
    const progress: number[] = [];
    const r = await ensureSyntheticDataset(dir, base, (done) => progress.push(done));
    assert.deepEqual(r, { dir, rendered: 8, cached: 0 });
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8]);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.format, 'ivgr-synthetic');
    assert.equal(manifest.seed, 3);
    assert.equal(manifest.size, 256);
    assert.equal(manifest.convention, 'qwen2-1000');
    assert.deepEqual(manifest.counts, base.counts);
    assert.equal(typeof manifest.generatorVersion, 'number');
    for (const split of ['train', 'val', 'test'] as const) {
      const lines = (await readFile(join(dir, `${split}.jsonl`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.length, base.counts[split]);
      for (const rec of lines) {
        assert.equal(rec.split, split);
        assert.match(rec.image, new RegExp(`^images/${split}/${split}-\\d{6}\\.png$`));
        const meta = await sharp(join(dir, rec.image)).metadata();
        assert.equal(meta.format, 'png');
        assert.deepEqual([meta.width, meta.height], [rec.width, rec.height]);
        assert.equal(Math.max(rec.width, rec.height), 256);
      }
    }
  });

  it('reuses images when nothing that affects pixels changed, and renders only new records', async () => {
    const before = (await stat(join(dir, 'images/train/train-000000.png'))).mtimeMs;
    assert.deepEqual(await ensureSyntheticDataset(dir, base), { dir, rendered: 0, cached: 8 });
    // The trace convention only changes the JSONL.
    assert.deepEqual(await ensureSyntheticDataset(dir, { ...base, convention: 'pixels' }), { dir, rendered: 0, cached: 8 });
    const first = JSON.parse((await readFile(join(dir, 'train.jsonl'), 'utf8')).split('\n')[0] as string);
    assert.ok(first.reference.grounded.includes(`<box>[${first.evidence[0].join(',')}]</box>`), 'pixels convention cites the evidence box as is');
    assert.deepEqual(await ensureSyntheticDataset(dir, { ...base, counts: { train: 6, val: 2, test: 2 } }), { dir, rendered: 2, cached: 8 });
    assert.equal((await stat(join(dir, 'images/train/train-000000.png'))).mtimeMs, before);
  });

  it('re-renders everything when the seed or size changes, or an image is missing', async () => {
    assert.deepEqual(await ensureSyntheticDataset(dir, { ...base, seed: 4 }), { dir, rendered: 8, cached: 0 });
    assert.deepEqual(await ensureSyntheticDataset(dir, { ...base, seed: 4, size: 320 }), { dir, rendered: 8, cached: 0 });
    const meta = await sharp(join(dir, 'images/val/val-000000.png')).metadata();
    assert.equal(Math.max(meta.width, meta.height), 320);
    await rm(join(dir, 'images/test/test-000001.png'));
    assert.deepEqual(await ensureSyntheticDataset(dir, { ...base, seed: 4, size: 320 }), { dir, rendered: 1, cached: 7 });
  });

  it('rejects bad options with the field named', async () => {
    await assert.rejects(ensureSyntheticDataset(join(tmp, 'bad'), { ...base, size: 10 }), /size must be an integer 64\.\.4096 px, got 10/);
    await assert.rejects(ensureSyntheticDataset(join(tmp, 'bad'), { ...base, seed: -1 }), /seed must be an integer/);
    await assert.rejects(ensureSyntheticDataset(join(tmp, 'bad'), { ...base, families: ['other'] }), /unknown question family "other"/);
  });

  it('loads back through loadDataset with every record, and by split', async () => {
    const all = await loadDataset(dir);
    assert.equal(all.format, 'synthetic');
    assert.equal(all.records.length, 8);
    assert.deepEqual(all.skipped, []);
    const val = await loadDataset(dir, { split: 'val' });
    assert.deepEqual(val.records.map((r) => r.id), ['val-000000', 'val-000001']);
    assert.ok(val.records.every((r) => r.reference && r.evidence.length > 0));
  });
});
