// Creates .venv and installs python/requirements.txt. Idempotent: skips when the
// requirements file has not changed since the last successful install.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const venv = '.venv';
const py = join(venv, 'bin', 'python');
const stamp = join(venv, '.ivgr-requirements.sha256');
const reqs = readFileSync('python/requirements.txt');
const digest = createHash('sha256').update(reqs).digest('hex');

if (process.env.IVGR_PYTHON) {
  console.log(`setup-python: using IVGR_PYTHON=${process.env.IVGR_PYTHON}; nothing to install`);
  process.exit(0);
}
if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) {
  console.log('setup-python: .venv is up to date');
  process.exit(0);
}

function run(cmd, args) {
  console.log(`setup-python: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`setup-python: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal}).`);
    process.exit(1);
  }
}

if (!existsSync(py)) run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv]);
// --retries 0: fail fast when the default index is unreachable and a local index or find-links serves the wheels.
run(py, ['-m', 'pip', 'install', '--retries', '0', '--disable-pip-version-check', '-q', '-r', 'python/requirements.txt']);
writeFileSync(stamp, digest + '\n');
