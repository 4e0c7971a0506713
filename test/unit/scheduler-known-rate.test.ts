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
