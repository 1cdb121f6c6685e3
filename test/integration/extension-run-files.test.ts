/**
 * The panel finds a run's images where the loader put them: an HR-Bench TSV whose
 * folder cannot be written has its images decoded into a temp cache, and the
 * run's dataset root (the panel's image root and resource root) is that cache.
 * A run over several datasets reads them as the worker trains on them.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ensureSyntheticDataset, loadDataset, resolveInside } from '../../src/data';
import { serveImage } from '../../src/extension/panel/image-cache';
import { datasetImagePath, loadRunEvidence, readRunFiles } from '../../src/extension/run-files';
import { createRunDir } from '../../src/run/run-dir';
import { parseConfigText } from '../../src/run/config-load';
import { openRunData } from '../../src/worker/run-inputs';

const tmp = await mkdtemp(join(tmpdir(), 'ivgr-run-files-'));
const roots: string[] = [];
after(() => Promise.all([tmp, ...roots].map((r) => rm(r, { recursive: true, force: true }))));

const jpeg = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: '#406080' } })
    .jpeg()
    .toBuffer();

async function hrbenchTsv(dir: string, blocked: boolean): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tsv = join(dir, 'hr.tsv');
  const img = (await jpeg(32, 24)).toString('base64');
  await writeFile(tsv, ['index\tquestion\tanswer\tA\tB\timage', `7\tWhat colour?\tA\tblue\tred\t${img}`].join('\n') + '\n');
  // Running as root ignores permission bits, so the folder for the decoded images is blocked by a file instead.
  if (blocked) await writeFile(join(dir, 'hr.tsv.images'), 'not a folder');
  return tsv;
}

function runWithConfig(name: string, config: Record<string, unknown>, configFile?: string): string {
  const dir = join(tmp, 'runs', name);
  const { given, resolved } = parseConfigText(JSON.stringify({ steps: 5, ...config }), 'c.json');
  createRunDir(dir, { id: name, given, config: resolved, engine: 'torch', ...(configFile ? { configFile } : {}) });
  return dir;
}

const runWithDataset = (name: string, dataset: Record<string, string>): string => runWithConfig(name, { dataset });

describe('a run on an HR-Bench TSV', () => {
  it("in a folder that cannot be written: the panel resolves and serves the images from the loader's cache", async () => {
    const tsv = await hrbenchTsv(join(tmp, 'readonly'), true);
    const loaded = await loadDataset(tsv);
    roots.push(loaded.root);
    assert.notEqual(loaded.root, dirname(tsv), 'the loader decoded into the temp cache');
    const image = loaded.records[0]!.image;
    for (const [name, dataset] of [
      ['file', { path: tsv }],
      ['folder', { path: dirname(tsv), format: 'hrbench' }],
      ['detected', { path: dirname(tsv) }],
    ] as const) {
      const files = readRunFiles(runWithDataset(name, dataset));
      assert.equal(files.datasetRoot, loaded.root, name);
      const source = resolveInside(files.datasetRoot!, image);
      assert.ok(existsSync(source), `${name}: ${source} exists`);
      const served = await serveImage(source, join(tmp, 'cache'), 64);
      assert.deepEqual(served.original, { width: 32, height: 24 });
    }
  });

  it('in a writable folder: the images sit next to the TSV', async () => {
    const tsv = await hrbenchTsv(join(tmp, 'writable'), false);
    const loaded = await loadDataset(tsv);
    assert.equal(loaded.root, dirname(tsv));
    const files = readRunFiles(runWithDataset('writable', { path: tsv }));
    assert.equal(files.datasetRoot, loaded.root);
    assert.ok(existsSync(resolveInside(files.datasetRoot!, loaded.records[0]!.image)));
  });
});

describe('a run on several datasets', () => {
  it('resolves the prefixed records of each: images from the common root, evidence, and one resource root per dataset', async () => {
    const one = join(tmp, 'several', 'sets', 'one');
    const two = join(tmp, 'several', 'more', 'two');
    const synth = { counts: { train: 2, val: 1, test: 1 }, size: 128, convention: 'qwen2-1000' as const };
    await ensureSyntheticDataset(one, { ...synth, seed: 1 });
    await ensureSyntheticDataset(two, { ...synth, seed: 2 });
    // The second path is relative to the config file, as a user writes it.
    const configFile = join(tmp, 'several', 'more', 'run.yaml');
    const config = { datasets: [{ path: one }, { path: 'two', name: 'second' }] };
    const dir = runWithConfig('several', config, configFile);
    const files = readRunFiles(dir);
    assert.equal(files.datasetRoot, join(tmp, 'several'));
    assert.deepEqual(
      files.datasets.map((d) => [d.name, d.root]),
      [
        ['one', one],
        ['second', two],
      ],
    );

    const data = await openRunData({ configFile }, parseConfigText(JSON.stringify(config), 'c.json').resolved, () => undefined);
    assert.equal(data.root, files.datasetRoot, 'the panel reads images from the root the worker trained with');
    const { byId, errors } = await loadRunEvidence(files);
    assert.deepEqual(errors, []);
    const records = [...data.train, ...(await data.split('test'))];
    assert.deepEqual(new Set(records.map((r) => r.id.split('/')[0])), new Set(['one', 'second']));
    for (const r of records) {
      const image = datasetImagePath(files, r.image);
      assert.ok(existsSync(image), `${r.id}: ${image} exists`);
      assert.ok(image.startsWith(r.id.startsWith('one/') ? one : two), `${r.id}: inside its own dataset`);
      assert.deepEqual(byId.get(r.id)?.evidence, r.evidence, `${r.id}: ground-truth boxes`);
    }
    assert.throws(() => datasetImagePath(files, join('more', 'run.yaml')), /inside none of the run's dataset folders/);
    assert.throws(() => datasetImagePath(files, join('..', 'x.png')), /leaves the dataset root/);
  });
});
