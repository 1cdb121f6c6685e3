// Every subcommand answers an unknown flag the same way: exit 2, the flag named, then its usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const COMMANDS = [
  ['parse'],
  ['score'],
  ['data', 'synth'],
  ['data', 'check'],
  ['train'],
  ['resume'],
  ['eval'],
  ['runs'],
  ['import'],
  ['demo'],
];

test('an unknown flag is bad usage for every subcommand: exit 2, the flag named, the usage shown', () => {
  for (const words of COMMANDS) {
    const command = words.join(' ');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...words, '--no-such-flag'], {
      encoding: 'utf8',
      input: '',
    });
    assert.equal(r.status, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /Unknown option '--no-such-flag'/, command);
    assert.match(r.stderr, new RegExp(`usage: ivgr ${words[0]}\\b`), command);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${command}: no stack trace`);
  }
});
