// Runs the node:test files of one suite folder (test/<suite>/*.test.ts) through tsx.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [suite, ...extra] = process.argv.slice(2);
const dir = join('test', suite);
const files = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join(dir, f))
  : [];
if (files.length === 0) {
  console.log(`run-tests: no test files in ${dir}`);
  process.exit(0);
}
const serial = suite !== 'unit';
// --test-force-exit: a failed test that leaves a socket or child handle open must not hang the suite.
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  '--test-force-exit',
  ...(serial ? ['--test-concurrency=1'] : []),
  ...extra,
  ...files,
];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
