// A known request rate at image-model latencies (~20 s): the pool must send AT the quota from the start and keep
// doing so through random 503s. Found by the "Ride the quota" benchmark (bench/quota.ts): with the adaptive
// limit also in charge, its slow start from 4 needed ~5 round trips (100 s) to reach the ~100 in flight that
// 300 RPM × 20 s needs, and isolated 503s held it near 16 in flight, below the 20 that 60 RPM needs.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/internal/clock.ts';
import { runPool } from '../../src/scheduler/index.ts';
import type { AttemptContext, PoolEvent } from '../../src/scheduler/index.ts';
import type { Outcome } from '../../src/types.ts';
import { collect, drive, seeded, SimServer } from '../helpers/sim.ts';

const LATENCY_MS = 20_000;

async function run(n: number, rpm: number, faultRate: number, seed: number) {
  const clock = new FakeClock();
  const random = seeded(seed);
  // 10–30 s per image, a fixed per-minute quota answered with 429 + RetryInfo.
  const sim = new SimServer({ clock, random, quota: () => rpm, latencyMs: (r) => LATENCY_MS * (0.5 + r()) });
  let faults = 0;
  const attempt = async (job: number, ctx: AttemptContext): Promise<Outcome> => {
    if (random() < faultRate) {
      // A random 503 "overloaded" after a full latency: not caused by our load.
      faults++;
      await clock.sleep(LATENCY_MS * (0.5 + random()), ctx.signal).catch(() => undefined);
      return { kind: 'error', reason: 'server', httpStatus: 503, status: 'UNAVAILABLE', message: 'The model is overloaded.' };
    }
    return sim.attempt(job, ctx);
  };
  const events: PoolEvent<number>[] = [];
  const jobs = Array.from({ length: n }, (_, i) => i);
  const results = await drive(
    clock,
    collect(runPool(jobs, { attempt, concurrency: 128, requestsPerMinute: rpm, clock, random, onEvent: (e) => events.push(e) })),
  );
  assert.equal(results.length, n, 'every job ends exactly once');
  // The bound of the issue, max(N·60/R, N·L/C) + L, counting every attempt: retried requests use the quota too.
  const attempts = sim.log.length + faults;
  const bound = Math.max((attempts * 60_000) / rpm, (attempts * LATENCY_MS) / 128) + LATENCY_MS;
  return { sim, results, events, faults, ratio: clock.now() / bound };
}

describe('known rate at ~20 s per image', () => {
  for (const seed of [1, 2]) {
    test(`300 RPM: within 8 % of the bound from the first minute, no 429 (seed ${seed})`, async () => {
      const { sim, ratio } = await run(600, 300, 0, seed);
      assert.ok(ratio <= 1.08, `makespan ÷ bound = ${ratio.toFixed(3)}`);
      assert.equal(sim.count('quota'), 0);
      const perMinute = sim.acceptedPerWindow();
      assert.ok(perMinute[0]! >= 285, `first minute: ${perMinute[0]} of 300 (${perMinute})`);
    });

    test(`60 RPM with 5 % random 503s: still at the quota (seed ${seed})`, async () => {
      const { sim, ratio, results, faults, events } = await run(600, 60, 0.05, seed);
      assert.ok(faults > 15, `the test injected ${faults} faults`);
      assert.ok(ratio <= 1.07, `makespan ÷ bound = ${ratio.toFixed(3)}`);
      assert.equal(sim.count('quota'), 0);
      assert.ok(results.every((r) => r.decision === 'done'));
      const limits = events.flatMap((e) => (e.type === 'concurrency' ? [e.limit] : []));
      assert.ok(Math.min(...limits) >= 32, `in-flight limits seen: ${limits.join(',')}`);
    });
  }
});

describe('a known rate starts each window sooner (rateSpeedUp, default 4)', () => {
  test('300 jobs at 300 RPM, 20 s answers: all started in the first 15 s, no 429, ends near the mean latency past the bound', async () => {
    const clock = new FakeClock();
    const random = seeded(7);
    const sim = new SimServer({ clock, random, quota: () => 300, latencyMs: (r) => LATENCY_MS * (0.5 + r()) });
    const jobs = Array.from({ length: 300 }, (_, i) => i);
    await drive(clock, collect(runPool(jobs, { attempt: sim.attempt, concurrency: 400, requestsPerMinute: 300, clock, random })));
    assert.equal(sim.count('quota'), 0);
    const last = Math.max(...sim.log.map((r) => r.at));
    assert.ok(last < 15_000, `last start at ${last} ms (even pacing: 59.8 s)`);
    // Bound n·60/R + mean latency = 80 s; the slowest answer is at most 30 s, so the run ends by 45 s.
    assert.ok(clock.now() <= 45_000, `makespan ${clock.now()} ms`);
  });

  test('with rateSpeedUp 1 the same run is paced evenly (the old behaviour)', async () => {
    const clock = new FakeClock();
    const random = seeded(7);
    const sim = new SimServer({ clock, random, quota: () => 300, latencyMs: (r) => LATENCY_MS * (0.5 + r()) });
    const jobs = Array.from({ length: 300 }, (_, i) => i);
    await drive(clock, collect(runPool(jobs, { attempt: sim.attempt, concurrency: 400, requestsPerMinute: 300, rateSpeedUp: 1, clock, random })));
    const last = Math.max(...sim.log.map((r) => r.at));
    assert.ok(last >= 59_000 && last < 60_600, `last start at ${last} ms`);
  });

  test('told 60 RPM while the server allows 20: a few 429s once, then even pacing (no storm)', async () => {
    const clock = new FakeClock();
    const random = seeded(3);
    // A 429 takes 500 ms to come back: the sped-up starts sent meanwhile are what a wrong rate costs.
    const sim = new SimServer({ clock, random, quota: () => 20, rejectLatencyMs: 500, latencyMs: () => LATENCY_MS });
    const events: PoolEvent<number>[] = [];
    const jobs = Array.from({ length: 100 }, (_, i) => i);
    const results = await drive(clock, collect(runPool<number>(jobs, { attempt: sim.attempt, concurrency: 128, requestsPerMinute: 60, clock, random, onEvent: (e) => events.push(e) })));
    assert.ok(results.every((r) => r.decision === 'done'));
    const rejected = sim.perWindow('quota');
    // Window 0: 20 accepted in 5 s at 4/s; the 21st's 429 returns after 500 ms, by when 2 more were sent.
    assert.ok(rejected[0]! >= 1 && rejected[0]! <= 3, `429s in the first window: ${rejected[0]}`);
    // Afterwards one start per second at most: about one 429 per window, as even pacing always cost.
    assert.ok(rejected.slice(1).every((n) => n <= 1), `429s per window: ${rejected.join(',')}`);
    const firstRejection = sim.log.find((r) => r.result === 'quota')!.at;
    const later = sim.log.filter((r) => r.at > firstRejection + 1000).map((r) => r.at);
    assert.ok(later.length > 20);
    assert.ok(later.slice(1).every((t, i) => t - later[i]! >= 999), 'starts at least a second apart after the first 429');
    const pauses = events.filter((e) => e.type === 'paused').length;
    assert.ok(pauses >= rejected.length - 1, `${pauses} pauses for 429s in ${rejected.length} windows: each 429's RetryInfo was honoured`);
  });
});
