// mergeWithChannel: results of the pool and cache hits from a side channel, merged without holding either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Channel, mergeWithChannel } from '../../src/internal/merge.ts';

async function* numbers(n: number, onEach?: (i: number) => void): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((r) => setImmediate(r));
    onEach?.(i);
    yield i;
  }
}

test('a long run of main items with an open, empty side leaves no waits behind (each held its result: a leak)', async () => {
  const side = new Channel<number>();
  let maxWaiting = 0;
  let got = 0;
  for await (const _ of mergeWithChannel(numbers(2000, () => (maxWaiting = Math.max(maxWaiting, side.waiting))), side)) {
    got++;
    if (got === 2000) side.close();
  }
  assert.equal(got, 2000);
  assert.ok(maxWaiting <= 1, `waits piled up: ${maxWaiting}`);
});

test('side items and main items all come out; the merge ends when both are done', async () => {
  const side = new Channel<number>(2);
  const producer = (async () => {
    for (let i = 100; i < 110; i++) await side.push(i);
    side.close();
  })();
  const out: number[] = [];
  for await (const x of mergeWithChannel(numbers(10), side)) out.push(x);
  await producer;
  assert.deepEqual(out.sort((a, b) => a - b), [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 100 + i)]);
});

test('breaking out early calls cancel before waiting on main, and an error from main propagates', async () => {
  const side = new Channel<number>();
  let cancelled = false;
  for await (const x of mergeWithChannel(numbers(100), side, () => (cancelled = true))) {
    if (x === 3) break;
  }
  assert.ok(cancelled);
  assert.ok(side.isClosed);
  async function* failing(): AsyncGenerator<number> {
    yield 1;
    throw new Error('run-level stop');
  }
  await assert.rejects(async () => {
    for await (const _ of mergeWithChannel(failing(), new Channel<number>())) void _;
  }, /run-level stop/);
});
