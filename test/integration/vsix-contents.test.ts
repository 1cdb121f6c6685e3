/**
 * What the packaged extension holds: the vsix that `npm run package` builds carries the bundles,
 * the panel, media, the Python engine and the vendored runtime packages, and none of the sources,
 * tests, benchmarks or build leftovers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Entry names of a zip, from its central directory (a vsix is a plain zip well under zip64 sizes). */
function zipEntries(file: string): string[] {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, `${file}: no end-of-central-directory record`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, `${file}: central directory entry ${i} at byte ${at}`);
    const nameLength = zip.readUInt16LE(at + 28);
    names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return names;
}

describe('the packaged vsix', { timeout: 3 * 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivgr-vsix-'));
  let entries: string[] = [];

  before(() => {
    const vsix = join(dir, 'ivgr-studio.vsix');
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package-vsix.mjs'), '--out', vsix], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `npm run package failed:\n${r.stdout}\n${r.stderr}`);
    // Paths inside the extension, as they land in the extensions folder.
    entries = zipEntries(vsix)
      .filter((e) => e.startsWith('extension/'))
      .map((e) => e.slice('extension/'.length));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the extension and CLI bundles, the panel, media and the vendored runtime packages', () => {
    for (const f of [
      'package.json',
      'dist/extension.js',
      'dist/cli.js',
      'dist/webview.js',
      'dist/webview.css',
      'media/ivgr.svg',
      'dist/node_modules/sharp/package.json',
    ]) {
      assert.ok(entries.includes(f), `${f} is in the vsix`);
    }
  });

  it('holds every module of the Python engine and nothing else from python/ but its requirements', () => {
    const modules = readdirSync(join(repoRoot, 'python', 'ivgr_engine')).filter((f) => f.endsWith('.py'));
    assert.ok(modules.length > 0);
    for (const m of modules) assert.ok(entries.includes(`python/ivgr_engine/${m}`), `python/ivgr_engine/${m} is in the vsix`);
    const python = entries.filter((e) => e.startsWith('python/'));
    assert.deepEqual(
      python.filter((e) => e !== 'python/requirements.txt' && !/^python\/ivgr_engine\/(.+\/)?[^/]+\.py$/.test(e)),
      [],
    );
  });

  it('leaves out sources, tests, benchmarks, source maps, node_modules outside dist and Python caches', () => {
    const unwanted = entries.filter(
      (e) =>
        /^(src|test|bench|webview|scripts|node_modules)\//.test(e) ||
        /\.(ts|mts|cts|map)$/.test(e) ||
        /(^|\/)(test|tests|__tests__)\//.test(e) ||
        (e.includes('node_modules/') && !e.startsWith('dist/node_modules/')) ||
        /(^|\/)__pycache__\/|\.pyc$/.test(e),
    );
    assert.deepEqual(unwanted, []);
  });
});
