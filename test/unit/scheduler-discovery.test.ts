// Quota discovery (issue 13): how fast the pool finds a large unknown quota, on a FakeClock against the simulated
// server (test/helpers/sim.ts: fixed 60-s windows, 429s answered in 50 ms). Pins the growth rule of adaptive.ts
// (slow start counts an attempt once it has run admittedAfterMs) and the learner's first estimate (learn.ts).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/internal/clock.ts';
import { runPool } from '../../src/scheduler/index.ts';
import type { PoolEvent, PoolOptions } from '../../src/scheduler/index.ts';
import { collect, drive, seeded, SimServer } from '../helpers/sim.ts';
import type { SimServerOptions } from '../helpers/sim.ts';

const W = 60_000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** Image latencies of 10-30 s (mean 20 s), the slow profile of the issue. */
const slow = (random: () => number) => 10_000 + 20_000 * random();

async function simulate(n: number, server: Omit<SimServerOptions, 'clock' | 'random'>, pool: Partial<PoolOptions<number>> = {}) {
  const clock = new FakeClock();
  const random = seeded(7);
  const sim = new SimServer({ clock, random, ...server });
  const events: PoolEvent<number>[] = [];
  const results = await drive(clock, collect(runPool(range(n), { attempt: sim.attempt, clock, random, concurrency: 128, onEvent: (e) => events.push(e), ...pool })));
  assert.equal(results.length, n, 'every job ends');
  return { sim, events, makespan: clock.now() };
}

const limitsAt = (events: PoolEvent<number>[]) => events.flatMap((e) => (e.type === 'concurrency' ? [[e.at, e.limit] as const] : []));

describe('quota discovery (simulated server, virtual time)', () => {
  test('slow start doubles about every admittedAfterMs (2 s), not per 20-s answer, and spreads its starts', async () => {
    const { events } = await simulate(400, { latencyMs: slow });
    const limitAt = (t: number) => Math.max(...limitsAt(events).filter(([at]) => at <= t).map(([, l]) => l));
    assert.ok(limitAt(2000) >= 16 && limitAt(5000) >= 32 && limitAt(7500) >= 64, `limits: ${JSON.stringify(limitsAt(events).slice(0, 12))}`);
    assert.equal(limitAt(10_000), 128);
    // Only the initial 8 start together; after that, one start per instant.
    const starts = events.flatMap((e) => (e.type === 'started' ? [e.at] : []));
    const perInstant = new Map<number, number>();
    for (const at of starts) perInstant.set(at, (perInstant.get(at) ?? 0) + 1);
    assert.equal(perInstant.get(0), 8);
    assert.ok([...perInstant].every(([at, k]) => at === 0 || k === 1), 'slow start is paced');
  });

  test('300 RPM with 20-s answers, quota unknown: within 1.15 × the bound, ≤ 30 429s per 1000 requests', async () => {
    const n = 900;
    const { sim, makespan } = await simulate(n, { latencyMs: slow, quota: () => 300 });
    const bound = (n / 300) * W + 20_000;
    assert.ok(makespan <= 1.15 * bound, `makespan ${makespan} ms vs bound ${bound} ms`);
    assert.ok(sim.count('quota') <= 0.03 * sim.log.length, `${sim.count('quota')} 429s in ${sim.log.length} requests`);
    // Every window but the last is used to (nearly) the full quota.
    const ok = sim.acceptedPerWindow();
    for (const w of ok.slice(0, 2)) assert.ok(w >= 285, `accepted per window: ${ok}`);
  });

  test('a window that began before the first request is learned from the limit its 429 states, at the first 429', async () => {
    const { events } = await simulate(300, { latencyMs: slow, quota: () => 120, windowOffsetMs: 30_000, statesLimit: true });
    const firstPause = events.find((e) => e.type === 'paused');
    const firstRate = events.find((e) => e.type === 'rate');
    assert.ok(firstPause && firstRate && firstRate.type === 'rate');
    assert.equal(firstRate.requestsPerMinute, 120);
    assert.equal(firstRate.at, firstPause.at);
  });

  test('no overshoot storm: a small quota that no 429 states costs a few 429s per window', async () => {
    // 20 per minute, the first window not countable: slow start ends at what was in flight when the quota ran
    // out (≤ 20), so the second window opens with at most that; it is counted, and pacing follows.
    const { sim } = await simulate(200, { latencyMs: slow, quota: () => 20, windowOffsetMs: 30_000 });
    const rejected = sim.perWindow('quota');
    assert.ok(Math.max(...rejected) <= 9, `429s per window: ${rejected}`);
    assert.ok(sim.count('quota') <= 20, `${sim.count('quota')} 429s in all`);
  });

  test('after an outage the limit slow-starts back instead of growing by one per 20-s round trip', async () => {
    const outages = [{ from: 120_000, to: 300_000, reason: 'server' as const, status: 503 }];
    const { events } = await simulate(900, { latencyMs: slow, outages });
    const after = limitsAt(events).filter(([at]) => at >= 300_000);
    const back = after.find(([, limit]) => limit >= 32);
    assert.ok(back, `limits after the outage: ${JSON.stringify(after.slice(0, 10))}`);
    assert.ok(back[0] - after[0]![0] <= 30_000, `back to 32 in flight after ${back[0] - after[0]![0]} ms`);
  });
});
