// The shared quota's Lua scripts and coordinator against a real redis-server (test/helpers/redis.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock, systemClock } from '../../src/internal/clock.ts';
import { QuotaExhaustedError } from '../../src/errors.ts';
import { connectRedis } from '../../src/quota/connect.ts';
import type { QuotaRedis } from '../../src/quota/connect.ts';
import { modelKeys, modelsKey } from '../../src/quota/keys.ts';
import { resolveSharedQuota } from '../../src/quota/options.ts';
import { SharedQuota } from '../../src/quota/shared.ts';
import type { SharedQuotaConfig } from '../../src/quota/shared.ts';
import type { Outcome } from '../../src/types.ts';
import { redisSkip, startRedis } from '../helpers/redis.ts';
import type { TestRedis } from '../helpers/redis.ts';

let redis: TestRedis;
const clients: QuotaRedis[] = [];
let groups = 0;

before(async () => {
  if (!redisSkip) redis = await startRedis();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await redis?.stop();
});

async function client(): Promise<QuotaRedis> {
  const c = await connectRedis(redis.url);
  clients.push(c);
  return c;
}

/** A coordinator of `group` on its own connection: one "process". */
async function proc(group: string, o: Partial<SharedQuotaConfig<string>> = {}): Promise<SharedQuota<string>> {
  return new SharedQuota<string>({
    redis: await client(),
    shared: resolveSharedQuota(redis.url, {})!,
    group,
    modelOf: () => 'm',
    concurrency: 64,
    adaptive: false,
    learnRate: false,
    leaseTtlMs: 10_000,
    clock: systemClock,
    random: () => 0.5,
    warn: () => undefined,
    ...o,
  });
}

const ok: Outcome = { kind: 'image', images: [], text: [] };
const q429 = (retryAfterMs?: number): Outcome => ({ kind: 'error', reason: 'quota', message: '429', httpStatus: 429, retryAfterMs, quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' });
const newGroup = () => `test-${process.pid}-${groups++}`;

test('GCRA: three processes together never get two slots closer than 60 s / rpm', { skip: redisSkip, timeout: 20_000 }, async () => {
  const group = newGroup();
  const rpm = 6000; // one start every 10 ms
  const procs = await Promise.all([1, 2, 3].map(() => proc(group, { requestsPerMinute: rpm })));
  const signal = new AbortController().signal;
  await Promise.all(
    procs.map(async (p) => {
      for (let i = 0; i < 15; i++) p.release(await p.acquire('job', 1, signal), { outcome: ok });
    }),
  );
  const c = await client();
  const starts = (await c.client.zrange(modelKeys(group, 'm')[5]!, '0', '-1', 'WITHSCORES')).filter((_, i) => i % 2 === 1).map(Number);
  assert.equal(starts.length, 45, 'every acquire started once');
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! >= 10 - 0.002, `starts ${i - 1} and ${i} are ${starts[i]! - starts[i - 1]!} ms apart`);
  const trips = procs.reduce((n, p) => n + p.roundTrips, 0);
  assert.ok(trips <= 45 * 3, `at most three round trips per attempt (${trips} for 45)`);
});

test('images per minute are charged by cost: a 4-image attempt holds the next slot 4 intervals back', { skip: redisSkip }, async () => {
  const group = newGroup();
  const c = await client();
  const keys = [...modelKeys(group, 'm'), modelsKey(group)];
  const args = (lease: string, cost: number) => [lease, cost, 0, 600, 64, 10_000, 0, 0, 60_000, 0, 'm']; // 100 ms per image
  assert.equal((await c.acquire(keys, args('a', 4)))[0], 'go');
  const [what, wait] = await c.acquire(keys, args('b', 1));
  assert.equal(what, 'book');
  assert.ok(Number(wait) > 0 && Number(wait) <= 400, `booked ${wait} ms ahead`);
  const slotA = Number(await c.client.zscore(keys[5]!, 'a'));
  const bookedB = Number(await c.client.zscore(keys[4]!, 'b')) - 10_000;
  assert.ok(Math.abs(bookedB - slotA - 400) < 0.01, `b's slot is ${bookedB - slotA} ms after a's, expected 4 × 100 ms`);
});

test('a pause is only ever extended, and every process of the group waits for it', { skip: redisSkip }, async () => {
  const group = newGroup();
  const [a, b] = await Promise.all([proc(group), proc(group)]);
  const signal = new AbortController().signal;
  const c = await client();
  const keys = [...modelKeys(group, 'm'), modelsKey(group)];
  a.release(await a.acquire('x', 1, signal), { outcome: q429(5000), pauseMs: 5000 });
  const shorter = await proc(group);
  shorter.release(await acquireOrWait(shorter), { outcome: q429(1000), pauseMs: 1000 });
  await shorter.close();
  const [what, left] = await c.acquire(keys, ['probe', 1, 0, 0, 64, 10_000, 0, 0, 60_000, 0, 'm']);
  assert.equal(what, 'wait', 'a new process of the group sees the pause');
  assert.ok(Number(left) > 4000, `the 5 s pause was not shortened by the 1 s one (${left} ms left)`);
  const early = new AbortController();
  const waiting = b.acquire('y', 1, early.signal);
  const t = setTimeout(() => early.abort(new Error('still paused')), 300);
  await assert.rejects(waiting, /still paused/);
  clearTimeout(t);
});

/** acquire() that gives up after 200 ms (the group is paused): returns a lease taken by force for the test. */
async function acquireOrWait(p: SharedQuota<string>): Promise<string> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 200);
  try {
    return await p.acquire('z', 1, ac.signal);
  } catch {
    return 'unknown-lease#m';
  } finally {
    clearTimeout(t);
  }
}

test('leases expire: a crashed process cannot hold the in-flight slots for ever', { skip: redisSkip }, async () => {
  const group = newGroup();
  const c = await client();
  const keys = [...modelKeys(group, 'm'), modelsKey(group)];
  const args = (lease: string) => [lease, 1, 0, 0, 2, 1000, 0, 0, 60_000, 0, 'm'];
  assert.equal((await c.acquire(keys, args('crashed-1')))[0], 'go');
  assert.equal((await c.acquire(keys, args('crashed-2')))[0], 'go');
  assert.equal((await c.acquire(keys, args('third')))[0], 'full', 'the ceiling of 2 holds group-wide');
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await c.acquire(keys, args('third')))[0], 'go', 'the expired leases freed their slots');
});

test('AIMD: one congestion event seen by several processes cuts the group limit once', { skip: redisSkip }, async () => {
  const group = newGroup();
  const procs = await Promise.all([1, 2, 3, 4].map(() => proc(group, { adaptive: true, concurrency: 20 })));
  const signal = new AbortController().signal;
  const c = await client();
  const limit = async () => Number(await c.client.hget(modelKeys(group, 'm')[6]!, 'limit'));
  // One healthy answer first (drops are weighed against healthy answers' time), then four attempts in flight across
  // four processes, all four answered 429 (one overloaded window).
  procs[0]!.release(await procs[0]!.acquire('j', 1, signal), { outcome: ok });
  const leases = await Promise.all(procs.map((p) => p.acquire('j', 1, signal)));
  procs.forEach((p, i) => p.release(leases[i]!, { outcome: q429() }));
  await Promise.all(procs.map((p) => p.close()));
  assert.equal(await limit(), 4 * 0.7, 'cut once (×0.7), not once per process (0.7⁴)');
  // An attempt started after the cut and dropped is a new event: it cuts again.
  const p = await proc(group, { adaptive: true, concurrency: 20 });
  p.release(await p.acquire('j', 1, signal), { outcome: q429() });
  await p.close();
  assert.ok(Math.abs((await limit()) - 4 * 0.7 * 0.7) < 1e-6, `second event cut again (${await limit()})`);
});

test('a daily-quota stop reported by one process stops the others', { skip: redisSkip }, async () => {
  const group = newGroup();
  const [a, b] = await Promise.all([proc(group), proc(group)]);
  const signal = new AbortController().signal;
  const stopError = new QuotaExhaustedError('quota GenerateRequestsPerDayPerProjectPerModel is exhausted for today');
  a.release(await a.acquire('x', 1, signal), { outcome: q429(), stopError });
  await a.close();
  await assert.rejects(b.acquire('y', 1, signal), (e: unknown) => e instanceof QuotaExhaustedError && /exhausted for today.*quota group/.test(e.message));
});

test('the learned rate: a per-minute 429 dates its window and the group paces at what it had started', { skip: redisSkip }, async () => {
  const group = newGroup();
  const p = await proc(group, { learnRate: true, shared: resolveSharedQuota({ url: redis.url }, {}, 1000)! });
  const signal = new AbortController().signal;
  // The group's first start, well before the window the 429 will date (an older window is not learned from).
  p.release(await p.acquire('j', 1, signal), { outcome: ok });
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 5; i++) p.release(await p.acquire('j', 1, signal), { outcome: ok });
  const lease = await p.acquire('j', 1, signal);
  // RetryInfo dates the window: choose the delay that makes it begin just before the five (whatever the machine's
  // speed), as the server's own window would.
  const c = await client();
  const slots = (await c.client.zrange(modelKeys(group, 'm')[5]!, '0', '-1', 'WITHSCORES')).filter((_, i) => i % 2 === 1).map(Number);
  assert.equal(slots.length, 7);
  const retryAfterMs = 1000 - (slots[6]! - slots[1]!) - 0.5;
  p.release(lease, { outcome: q429(retryAfterMs) });
  await p.close();
  const rate = Number(await c.client.hget(modelKeys(group, 'm')[6]!, 'rate'));
  assert.equal(rate, 5 * 60, 'five accepted in a 1 s window = 300 per minute');
});

test('a bad URL, a wrong password and an unreachable server are option errors before anything is sent', { skip: redisSkip }, async () => {
  assert.throws(() => resolveSharedQuota('http://127.0.0.1:6379', {}), /sharedQuota/);
  assert.throws(() => resolveSharedQuota('redis://:secret@127.0.0.1:6379/x', {}), (e: unknown) => e instanceof Error && !e.message.includes('secret'));
  const admin = await client();
  await admin.client.config('SET', 'requirepass', 'right-secret');
  try {
    await assert.rejects(connectRedis(`redis://:wrong-secret@127.0.0.1:${redis.port}`), (e: unknown) => e instanceof Error && /credentials/.test(e.message) && !e.message.includes('wrong-secret'));
    await assert.rejects(connectRedis(redis.url), /credentials/);
  } finally {
    await admin.client.config('SET', 'requirepass', '');
  }
  await assert.rejects(connectRedis('redis://127.0.0.1:1', { connectTimeoutMs: 500 }), /a Redis server that answers/);
});

test('a full group: a process with attempts running waits for one of its own to end, instead of polling at the group\'s pace', { skip: redisSkip, timeout: 20_000 }, async () => {
  const settle = () => new Promise((r) => setTimeout(r, 100));
  const signal = new AbortController().signal;
  /** Round trips the third acquire of `waiter` costs over 400 ms while the group's two slots are held by `holder`. */
  const pollsWhileFull = async (sameProcess: boolean) => {
    const group = newGroup();
    const clock = new FakeClock();
    const waiter = await proc(group, { concurrency: 2, clock, random: () => 0 });
    const holder = sameProcess ? waiter : await proc(group, { concurrency: 2, clock, random: () => 0 });
    const held = [await holder.acquire('a', 1, signal), await holder.acquire('b', 1, signal)];
    const before = waiter.roundTrips;
    const third = waiter.acquire('c', 1, signal);
    await settle();
    // An answer takes ~1 s (the estimate before any answer): the group's pace is 1 s ÷ 2 slots, with jitter × 0.5.
    for (let t = 0; t < 400; t += 50) {
      await clock.advance(50);
      await settle();
    }
    const trips = waiter.roundTrips - before;
    holder.release(held[0]!, { outcome: ok });
    let lease: string | undefined;
    void third.then((l) => (lease = l));
    for (let i = 0; i < 100 && lease === undefined; i++) {
      await clock.advance(50);
      await settle();
    }
    assert.ok(lease !== undefined, 'the freed slot went to the waiting acquire');
    waiter.release(lease, { outcome: ok });
    holder.release(held[1]!, { outcome: ok });
    return trips;
  };
  assert.equal(await pollsWhileFull(true), 1, 'its own release will wake it: one "full", then no poll');
  assert.ok((await pollsWhileFull(false)) >= 2, 'nothing of its own running: it polls the group');
});

test('AIMD in the group: fast refusals of a minority of requests do not cut its limit, a majority does', { skip: redisSkip }, async () => {
  const group = newGroup();
  const p = await proc(group, { adaptive: true, concurrency: 20 });
  const signal = new AbortController().signal;
  const c = await client();
  const limit = async () => Number(await c.client.hget(modelKeys(group, 'm')[6]!, 'limit'));
  const settle = () => new Promise((r) => setTimeout(r, 30));
  // A healthy answer that held its slot 1.5 s (Redis time), then refusals answered at once (a few ms each, however
  // loaded the machine): their time share stays under 5 %.
  const slow = await p.acquire('j', 1, signal);
  await new Promise((r) => setTimeout(r, 1500));
  p.release(slow, { outcome: ok });
  for (let i = 0; i < 3; i++) p.release(await p.acquire('j', 1, signal), { outcome: q429() });
  await settle();
  assert.equal(await limit(), 4, 'three fast refusals beside one long answer: no cut');
  // Refusals keep coming, far more than answers: their count cuts.
  for (let i = 0; i < 12; i++) p.release(await p.acquire('j', 1, signal), { outcome: q429() });
  await p.close();
  assert.ok((await limit()) < 4, `a majority of refusals cut (${await limit()})`);
});
