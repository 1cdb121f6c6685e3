import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { ControlServer } from '../../src/worker/control-server';
import { parseWorkerMessage, type WorkerStatus } from '../../src/core/protocol/control';
import { scratch } from './fixtures/scratch';

const { root: work } = scratch('ivgr-ctl-');

test('the control server greets, answers ping, forwards commands, broadcasts and removes its socket', async () => {
  const dir = mkdtempSync(join(work, 'ctl-'));
  const sock = join(dir, 'control.sock');
  writeFileSync(sock, 'stale');
  const status: WorkerStatus = { status: 'running', step: 3, totalSteps: 10, phase: 'generate', reward: {}, pid: process.pid };
  const commands: string[] = [];
  const warnings: string[] = [];
  const server = new ControlServer(
    sock,
    'run-1',
    () => status,
    (m) => commands.push(m.type),
    (w) => warnings.push(w),
  );
  await server.listen();
  const client = connect(sock);
  const lines: string[] = [];
  let buf = '';
  const waitFor = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (lines.length >= n ? resolve() : setTimeout(check, 5));
      check();
    });
  client.on('data', (c) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  await waitFor(1);
  const hello = parseWorkerMessage(lines[0]!);
  assert.ok(hello.ok && hello.message.type === 'hello' && hello.message.runId === 'run-1' && hello.message.status.step === 3);
  client.write('{"type":"ping"}\n{"type":"pause"}\n{"type":"bogus"}\n');
  await waitFor(3);
  assert.deepEqual(JSON.parse(lines[1]!), { type: 'pong' });
  assert.match(JSON.parse(lines[2]!).text, /client message invalid at type/);
  assert.deepEqual(commands, ['pause']);
  server.broadcast({ type: 'event', file: 'metrics', offset: 0, record: { step: 1 } });
  await waitFor(4);
  assert.equal(JSON.parse(lines[3]!).type, 'event');
  client.end();
  await server.close();
  assert.equal(existsSync(sock), false);
  assert.equal(warnings.length, 1);
});
