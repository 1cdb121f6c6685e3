import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { GENERATOR_VERSION, ensureSyntheticDataset, loadDataset, type SynthOptions } from '../../src/data';

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
      const lines = (await readFile(join(dir, `${split}.jsonl`), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
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
    assert.ok(
      first.reference.grounded.includes(`<box>[${first.evidence[0].join(',')}]</box>`),
      'pixels convention cites the evidence box as is',
    );
    assert.deepEqual(await ensureSyntheticDataset(dir, { ...base, counts: { train: 6, val: 2, test: 2 } }), {
      dir,
      rendered: 2,
      cached: 8,
    });
    assert.equal((await stat(join(dir, 'images/train/train-000000.png'))).mtimeMs, before);
  });

  it('re-renders every image drawn by another generator version, and none when version and seed are unchanged', async () => {
    const vdir = join(tmp, 'versions');
    assert.deepEqual(await ensureSyntheticDataset(vdir, base), { dir: vdir, rendered: 8, cached: 0 });
    const images = ['train/train-000000.png', 'train/train-000003.png', 'val/val-000001.png', 'test/test-000000.png'].map((p) =>
      join(vdir, 'images', p),
    );
    const mtimes = async (): Promise<number[]> => Promise.all(images.map(async (p) => (await stat(p)).mtimeMs));
    const drawn = await mtimes();
    assert.deepEqual(await ensureSyntheticDataset(vdir, base), { dir: vdir, rendered: 0, cached: 8 });
    assert.deepEqual(await mtimes(), drawn);
    // A folder written by the previous generator, as it is found after the version is bumped.
    const manifestPath = join(vdir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    await writeFile(manifestPath, JSON.stringify({ ...manifest, generatorVersion: GENERATOR_VERSION - 1 }));
    assert.deepEqual(await ensureSyntheticDataset(vdir, base), { dir: vdir, rendered: 8, cached: 0 });
    assert.equal(JSON.parse(await readFile(manifestPath, 'utf8')).generatorVersion, GENERATOR_VERSION);
    assert.deepEqual(await ensureSyntheticDataset(vdir, base), { dir: vdir, rendered: 0, cached: 8 });
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
    assert.deepEqual(
      val.records.map((r) => r.id),
      ['val-000000', 'val-000001'],
    );
    assert.ok(val.records.every((r) => r.reference && r.evidence.length > 0));
  });
});

describe('synthetic dataset at 4096 px', () => {
  it('renders canvases with a 4096 px long side whose targets stay small, and loads them back', async () => {
    const dir = join(tmp, 'ds4k');
    assert.deepEqual(
      await ensureSyntheticDataset(dir, { seed: 8, counts: { train: 4, val: 0, test: 0 }, size: 4096, convention: 'qwen25-abs' }),
      { dir, rendered: 4, cached: 0 },
    );
    const loaded = await loadDataset(dir);
    assert.deepEqual(loaded.skipped, []);
    assert.deepEqual(
      loaded.records.map((r) => r.family),
      ['attribute', 'text', 'position', 'count'],
    );
    for (const r of loaded.records) {
      const meta = await sharp(join(dir, r.image)).metadata();
      assert.deepEqual([meta.width, meta.height], [r.width, r.height], r.id);
      assert.equal(Math.max(r.width, r.height), 4096, r.id);
      for (const [x1, y1, x2, y2] of r.evidence) {
        const share = ((x2 - x1) * (y2 - y1)) / (r.width * r.height);
        // Target size scales with the canvas, so the share is the documented 0.1-0.7%, as at 2048 px.
        assert.ok(share > 0.0005 && share < 0.0075, `${r.id}: target covers ${(share * 100).toFixed(2)}% of the image`);
      }
    }
  });
});
