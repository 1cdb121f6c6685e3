import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TileQueue } from '../../src/extension/panel/tile-queue';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

test('tile jobs run two at a time in the order asked, and dropped ones never run', async () => {
  const q = new TileQueue(2);
  const started: number[] = [];
  const gates = new Map<number, ReturnType<typeof gate>>();
  for (let id = 1; id <= 5; id++) {
    const g = gate();
    gates.set(id, g);
    q.add(id, async () => {
      started.push(id);
      await g.promise;
    });
  }
  assert.deepEqual(started, [1, 2], 'only two run at once');
  assert.equal(q.pending, 3);
  // The view moved on before tiles 3 and 4 started.
  q.drop([3, 4, 1]);
  assert.equal(q.pending, 1);
  gates.get(1)!.open();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [1, 2, 5], 'the running job finishes; the next one kept is 5');
  gates.get(2)!.open();
  gates.get(5)!.open();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(q.pending, 0);
});

test('a failing tile job does not stall the queue', async () => {
  const q = new TileQueue(1);
  const done: number[] = [];
  q.add(1, () => Promise.reject(new Error('unreadable image')));
  q.add(2, async () => {
    done.push(2);
  });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(done, [2]);
});
