import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readAhead } from '../../src/internal/read-ahead.ts';

/** A source of `count` chunks of `size` bytes (chunk i filled with i), logging every read it answers. */
function source(count: number, size: number, failAt?: number) {
  const log: string[] = [];
  let next = 0;
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    await Promise.resolve();
    if (next === failAt) {
      log.push('fail');
      throw new Error('connection reset');
    }
    if (next >= count) {
      log.push('end');
      return { done: true, value: undefined };
    }
    log.push(`read ${next}`);
    return { done: false, value: new Uint8Array(size).fill(next++) };
  };
  return { read, log, reads: () => next };
}

/** Lets every pending promise chain run (the source answers after one microtask). */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('readAhead', () => {
  test('yields every chunk once, in order', async () => {
    const src = source(100, 10);
    const seen: number[] = [];
    for await (const chunk of readAhead(src.read, { highBytes: 50 })) seen.push(chunk[0]!);
    assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(src.log.at(-1), 'end');
  });

  test('reads in bursts: up to highBytes, then nothing until the queue is down to lowBytes', async () => {
    const src = source(100, 10);
    const it = readAhead(src.read, { highBytes: 50, lowBytes: 20 })[Symbol.asyncIterator]();
    assert.equal((await it.next()).value[0], 0);
    await settle();
    assert.equal(src.reads(), 6, 'chunk 0 taken, then the burst stops at 50 bytes queued (chunks 1..5)');
    await it.next();
    await it.next();
    await settle();
    assert.equal(src.reads(), 6, 'no read while more than lowBytes are queued (chunks 3..5)');
    // Taking chunk 3 brings the queue to the low mark: a burst refills it to 50 bytes while chunk 3 is worked on.
    assert.equal((await it.next()).value[0], 3);
    await settle();
    assert.equal(src.reads(), 9, 'the second burst read chunks 6..8');
    await it.return(undefined);
  });

  test('a failing source: the chunks read before the failure first, then its error', async () => {
    const src = source(10, 10, 3);
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of readAhead(src.read, { highBytes: 1000 })) seen.push(chunk[0]!);
      })(),
      /connection reset/,
    );
    assert.deepEqual(seen, [0, 1, 2]);
  });

  test('a consumer that stops early stops the reading', async () => {
    const src = source(1000, 10);
    for await (const chunk of readAhead(src.read, { highBytes: 30, lowBytes: 0 })) if (chunk[0] === 1) break;
    await settle();
    const after = src.reads();
    await settle();
    assert.ok(after <= 4, `read ${after} chunks for a consumer that took 2 (high mark: 3)`);
    assert.equal(src.reads(), after, 'no read after the consumer returned');
  });
});
