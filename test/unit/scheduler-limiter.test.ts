import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Limiter } from '../../src/scheduler/index.ts';
import type { Release } from '../../src/scheduler/index.ts';
import { OptionError } from '../../src/errors.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('Limiter', () => {
  test('grants up to the limit, then queues; releases admit waiters first-come first-served', async () => {
    const l = new Limiter(2);
    const a = await l.acquire();
    const b = await l.acquire();
    assert.equal(l.inFlight, 2);
    assert.equal(l.tryAcquire(), undefined);
    const order: string[] = [];
    const waits = ['c', 'd', 'e'].map((name) => l.acquire().then((rel) => (order.push(name), rel)));
    await tick();
    assert.deepEqual(order, []);
    assert.equal(l.waiting, 3);
    a();
    await tick();
    assert.deepEqual(order, ['c']);
    b();
    await tick();
    assert.deepEqual(order, ['c', 'd']);
    const [c, d] = await Promise.all(waits.slice(0, 2));
    c!();
    d!();
    await tick();
    assert.deepEqual(order, ['c', 'd', 'e']);
    assert.equal(l.inFlight, 1);
  });

  test('a release is idempotent', async () => {
    const l = new Limiter(1);
    const r = await l.acquire();
    r();
    r();
    assert.equal(l.inFlight, 0);
    const again = l.tryAcquire();
    assert.ok(again);
    assert.equal(l.inFlight, 1);
  });

  test('tryAcquire does not jump the queue', async () => {
    const l = new Limiter(1);
    const r = await l.acquire();
    const queued = l.acquire();
    r();
    // The slot freed by r() went to the queued caller, not to a late tryAcquire().
    assert.equal(l.tryAcquire(), undefined);
    (await queued)();
  });

  test('setLimit raises admit waiters at once; lowering never revokes holders', async () => {
    const l = new Limiter(1);
    const held: Release[] = [await l.acquire()];
    const waits = [l.acquire(), l.acquire(), l.acquire()];
    l.setLimit(3);
    held.push(await waits[0]!, await waits[1]!);
    assert.equal(l.inFlight, 3);
    l.setLimit(1);
    assert.equal(l.limit, 1);
    assert.equal(l.inFlight, 3);
    let granted = false;
    void waits[2]!.then(() => (granted = true));
    held.pop()!();
    held.pop()!();
    await tick();
    assert.equal(granted, false, 'still 1 in flight = the new limit');
    held.pop()!();
    await tick();
    assert.equal(granted, true);
  });

  test('an aborted waiter leaves the queue and rejects with the signal reason', async () => {
    const l = new Limiter(1);
    const r = await l.acquire();
    const ac = new AbortController();
    const p = l.acquire(ac.signal);
    const next = l.acquire();
    ac.abort(new Error('gone'));
    await assert.rejects(p, /gone/);
    assert.equal(l.waiting, 1);
    r();
    (await next)();
    assert.equal(l.inFlight, 0);
    await assert.rejects(l.acquire(AbortSignal.abort(new Error('already'))), /already/);
  });

  test('limits must be integers ≥ 1', () => {
    assert.throws(() => new Limiter(0), OptionError);
    assert.throws(() => new Limiter(1).setLimit(2.5), OptionError);
  });
});
