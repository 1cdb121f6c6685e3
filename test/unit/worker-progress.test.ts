import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../../src/worker/progress';

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

test('on a terminal progress is one bar redrawn in place; message lines clear it first', () => {
  const c = capture();
  const p = new Progress(c.stream, true);
  p.update('train', 3, 6, 'reward g=0.500 t=0.250');
  p.update('train', 6, 6);
  p.line('paused at step 6');
  p.update('train', 0, 0);
  p.done();
  assert.equal(
    c.text(),
    '\r\x1b[2Ktrain [############------------] 3/6 reward g=0.500 t=0.250' +
      '\r\x1b[2Ktrain [########################] 6/6 ' +
      '\r\x1b[2Kpaused at step 6\n' +
      '\r\x1b[2Ktrain [------------------------] 0/0 \n',
  );
});

test('off a terminal progress is plain lines, a repeated one written once', () => {
  const c = capture();
  const p = new Progress(c.stream, false);
  p.update('warm start', 1, 2);
  p.update('warm start', 1, 2);
  p.update('train', 1, 4, 'reward g=1.000 t=0.000');
  p.line('pausing at the end of this step');
  p.done();
  assert.equal(c.text(), 'warm start 1/2\ntrain 1/4 reward g=1.000 t=0.000\npausing at the end of this step\n');
  assert.ok(!c.text().includes('\r') && !c.text().includes('\x1b'));
});
