/**
 * The panel finds a run's images where the loader put them: an HR-Bench TSV whose
 * folder cannot be written has its images decoded into a temp cache, and the
 * run's dataset root (the panel's image root and resource root) is that cache.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadDataset, resolveInside } from '../../src/data';
import { serveImage } from '../../src/extension/image-cache';
import { readRunFiles } from '../../src/extension/run-files';
import { createRunDir } from '../../src/run/run-dir';
import { parseConfigText } from '../../src/run/config-load';

const tmp = await mkdtemp(join(tmpdir(), 'ivgr-run-files-'));
const roots: string[] = [];
after(() => Promise.all([tmp, ...roots].map((r) => rm(r, { recursive: true, force: true }))));

const jpeg = (width: number, height: number): Promise<Buffer> => sharp({ create: { width, height, channels: 3, background: '#406080' } }).jpeg().toBuffer();

async function hrbenchTsv(dir: string, blocked: boolean): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tsv = join(dir, 'hr.tsv');
  const img = (await jpeg(32, 24)).toString('base64');
  await writeFile(tsv, ['index\tquestion\tanswer\tA\tB\timage', `7\tWhat colour?\tA\tblue\tred\t${img}`].join('\n') + '\n');
  // Running as root ignores permission bits, so the folder for the decoded images is blocked by a file instead.
  if (blocked) await writeFile(join(dir, 'hr.tsv.images'), 'not a folder');
  return tsv;
}

function runWithDataset(name: string, dataset: Record<string, string>): string {
  const dir = join(tmp, 'runs', name);
  const { given, resolved } = parseConfigText(JSON.stringify({ steps: 5, dataset }), 'c.json');
  createRunDir(dir, { id: name, given, config: resolved, engine: 'torch' });
  return dir;
}

describe('a run on an HR-Bench TSV', () => {
  it('in a folder that cannot be written: the panel resolves and serves the images from the loader\'s cache', async () => {
    const tsv = await hrbenchTsv(join(tmp, 'readonly'), true);
    const loaded = await loadDataset(tsv);
    roots.push(loaded.root);
    assert.notEqual(loaded.root, dirname(tsv), 'the loader decoded into the temp cache');
    const image = loaded.records[0]!.image;
    for (const [name, dataset] of [['file', { path: tsv }], ['folder', { path: dirname(tsv), format: 'hrbench' }], ['detected', { path: dirname(tsv) }]] as const) {
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
