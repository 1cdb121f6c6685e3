// Creates .venv and installs python/requirements.txt into it. Idempotent: skips when the
// requirements have not changed since the last successful install and the venv still runs.
// Runs from npm's postinstall (with --if-possible: a machine without Python still installs the
// extension, with a warning) and from the demo on first use.
// Index: pip's own configuration (pip.conf, PIP_INDEX_URL, PIP_FIND_LINKS), or IVGR_PIP_INDEX_URL.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { venvPython } from './python-env.mjs';

const ifPossible = process.argv.includes('--if-possible');
const venv = '.venv';
const stamp = join(venv, '.ivgr-requirements.sha256');

function done(code, message) {
  if (message) (code === 0 ? console.log : console.error)(`setup-python: ${message}`);
  process.exit(code);
}

function fail(message) {
  if (ifPossible)
    done(
      0,
      `${message}\nsetup-python: continuing without the PyTorch engine; run 'node scripts/setup-python.mjs' once Python 3.10+ is available.`,
    );
  done(1, message);
}

if (process.env.IVGR_PYTHON) done(0, `using IVGR_PYTHON=${process.env.IVGR_PYTHON}; nothing to install`);
if (!existsSync('python/requirements.txt')) done(0, 'no python/requirements.txt here; nothing to install');
const digest = createHash('sha256').update(readFileSync('python/requirements.txt')).digest('hex');

function runs(py) {
  return spawnSync(py, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 3)'], { stdio: 'ignore' }).status === 0;
}

if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest && runs(venvPython)) done(0, '.venv is up to date');

function run(cmd, args) {
  console.log(`setup-python: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error) fail(`cannot run '${cmd}': ${r.error.message}`);
  if (r.status !== 0) fail(`'${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal}).`);
}

const base = process.env.PYTHON ?? (process.platform === 'win32' ? 'python' : 'python3');
if (!runs(venvPython)) {
  if (!runs(base)) fail(`no Python 3.10+ found as '${base}' (set PYTHON to choose one)`);
  run(base, ['-m', 'venv', venv]);
}
const index = process.env.IVGR_PIP_INDEX_URL ? ['--index-url', process.env.IVGR_PIP_INDEX_URL] : [];
// --retries 0: fail fast when the default index is unreachable and a local index or find-links serves the wheels.
run(venvPython, ['-m', 'pip', 'install', '--retries', '0', '--disable-pip-version-check', '-q', ...index, '-r', 'python/requirements.txt']);
writeFileSync(stamp, digest + '\n');
done(0, 'installed python/requirements.txt into .venv');
