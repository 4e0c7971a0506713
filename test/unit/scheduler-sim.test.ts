// "Ride the quota": the pool against a simulated Gemini on virtual time (test/helpers/sim.ts).
// Fixed 60 s quota windows like the real per-minute quota, 2-4 s per image, 429s answered in 50 ms.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/internal/clock.ts';
import { runPool } from '../../src/scheduler/index.ts';
import type { PoolEvent, PoolOptions, Settled } from '../../src/scheduler/index.ts';
import { collect, drive, seeded, SimServer } from '../helpers/sim.ts';
import type { SimServerOptions } from '../helpers/sim.ts';

const W = 60_000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function simulate(n: number, server: Omit<SimServerOptions, 'clock' | 'random'>, pool: Partial<PoolOptions<number>> = {}, seed = 1) {
  const clock = new FakeClock();
  const random = seeded(seed);
  const sim = new SimServer({ clock, random, ...server });
  const events: PoolEvent<number>[] = [];
  const results: Settled<number>[] = await drive(
    clock,
    collect(runPool(range(n), { attempt: sim.attempt, clock, random, onEvent: (e) => events.push(e), ...pool })),
  );
  assert.deepEqual(
    results.map((r) => r.job).sort((a, b) => a - b),
    range(n),
    'every job ends exactly once',
  );
  return { sim, results, events, makespan: clock.now() };
}

describe('riding the quota (simulated server)', () => {
  for (const seed of [1, 2]) {
    test(`known quota (60/min): makespan within 5 % of N/quota, and not one 429 (seed ${seed})`, async () => {
      const { sim, makespan } = await simulate(300, { quota: () => 60 }, { requestsPerMinute: 60 }, seed);
      const bound = (300 / 60) * W;
      assert.ok(makespan <= bound * 1.05, `makespan ${makespan} ms vs bound ${bound} ms`);
      assert.equal(sim.count('quota'), 0, 'paced at the quota, never above it');
      assert.ok(Math.max(...sim.acceptedPerWindow()) <= 60);
    });
  }

  test('unknown quota 60 → 20 → 60: learned within a window, re-learned after each change, few 429s', async () => {
    const quota = (t: number) => (t < 3 * W ? 60 : t < 6 * W ? 20 : 60);
    const { sim, events, results } = await simulate(480, { quota });
    const ok = sim.acceptedPerWindow();
    // Converged from the first window (pause on RetryInfo), and stays there.
    for (const w of [0, 1, 2]) assert.ok(ok[w]! >= 54, `window ${w}: ${ok[w]} of 60 (${ok})`);
    for (const w of [3, 4, 5]) assert.ok(ok[w]! >= 18, `window ${w}: ${ok[w]} of 20 (${ok})`);
    // Back to 60: at most one window spent below it while probing upwards.
    for (const w of [7, 8]) assert.ok(ok[w]! >= 54, `window ${w}: ${ok[w]} of 60 (${ok})`);
    const rejected = sim.perWindow('quota');
    assert.ok(Math.max(...rejected) <= 2, `429s per window: ${rejected}`);
    const learned = events.flatMap((e) => (e.type === 'rate' ? [Math.round(e.requestsPerMinute)] : []));
    assert.ok(learned.includes(60) && learned.includes(20), `learned rates: ${learned}`);
    assert.ok(results.every((r) => r.decision === 'done'));
    assert.ok(Math.max(...results.map((r) => r.attempts)) <= 3);
  });

  test('quotaWindowMs: a server counting in 6-s windows is learned in its own window (a time-scaled emulator)', async () => {
    const run = (quotaWindowMs?: number) => simulate(240, { quota: () => 20, windowMs: 6000, latencyMs: () => 300 }, { quotaWindowMs });
    const told = await run(6000);
    const learned = told.events.flatMap((e) => (e.type === 'rate' ? [Math.round(e.requestsPerMinute)] : []));
    // 20 per 6-s window is 200 per minute: the learned rate is per minute, counted over the window the server uses.
    assert.ok(learned.includes(200), `learned rates: ${learned}`);
    assert.ok(told.makespan <= 1.15 * (240 / 20) * 6000, `makespan ${told.makespan}`);
    assert.ok(told.sim.count('quota') <= 20, `${told.sim.count('quota')} × 429`);
    // Counted over 60 s instead, the 429s never look like a per-minute quota to learn from.
    const untold = await run();
    assert.ok(!untold.events.some((e) => e.type === 'rate' && Math.round(e.requestsPerMinute) === 200));
  });

  test('unknown quota on a sliding-window server: the learned pace keeps 429s rare', async () => {
    const { sim } = await simulate(480, { quota: () => 60, quotaModel: 'sliding' });
    const ok = sim.acceptedPerWindow();
    for (let w = 0; w < 7; w++) assert.ok(ok[w]! >= 54, `window ${w}: ${ok[w]} of 60 (${ok})`);
    assert.ok(sim.count('quota') <= 10, `${sim.count('quota')} 429s for 480 images`);
  });

  test('without learning, pausing on RetryInfo alone still uses every window', async () => {
    const quota = (t: number) => (t < 3 * W ? 60 : t < 6 * W ? 20 : 60);
    const { sim } = await simulate(480, { quota }, { learnRate: false });
    const ok = sim.acceptedPerWindow();
    for (let w = 0; w < 9; w++) assert.ok(ok[w]! >= quota(w * W) * 0.9, `window ${w}: ${ok[w]} (${ok})`);
    assert.ok(Math.max(...sim.perWindow('quota')) <= 2);
  });

  for (const reason of ['server', 'network'] as const) {
    test(`a 3-minute outage (${reason}) does not become a retry storm`, async () => {
      const outages = [{ from: W, to: 4 * W, reason, status: 503 }];
      const { sim, results, events } = await simulate(400, { outages });
      const failedPerWindow = sim.perWindow('outage');
      // The budget lets a share of recent traffic retry, then the pool probes alone, further and further apart.
      assert.ok(failedPerWindow[1]! <= 100, `first outage minute: ${failedPerWindow[1]} attempts`);
      for (const w of [2, 3]) assert.ok((failedPerWindow[w] ?? 0) <= 10, `outage minute ${w}: ${failedPerWindow[w]} attempts`);
      const flags = events.flatMap((e) => (e.type === 'degraded' ? [e.degraded] : []));
      assert.deepEqual(flags.slice(0, 2), [true, false], 'degraded during the outage, recovered after');
      assert.ok(Math.max(...results.map((r) => r.attempts)) <= 6, 'attempts per job bounded by maxAttempts');
      assert.ok(results.filter((r) => r.decision === 'done').length >= 395, 'nearly every job survives the outage');
      const maxDegradedInFlight = Math.max(...events.flatMap((e) => (e.type === 'concurrency' && e.at > W + 10_000 && e.at < 4 * W ? [e.limit] : [0])));
      assert.ok(maxDegradedInFlight <= 1);
    });
  }

  test('without a retry budget the same outage is a storm (the check above can fail)', async () => {
    const outages = [{ from: W, to: 4 * W, reason: 'network' as const }];
    const { sim } = await simulate(400, { outages }, { retryBudget: { ratio: 1000, minPerWindow: 1_000_000 } });
    assert.ok(sim.perWindow('outage')[2]! > 100);
  });

  test('overload (503 above 5 in flight, ceiling 16): the adaptive limit settles near the capacity', async () => {
    const { sim, results } = await simulate(400, { overloadAbove: 5 }, { concurrency: 16 });
    const ok = sim.acceptedPerWindow().slice(0, 4);
    // Capacity 5 in flight at 3 s mean latency is 100 per minute.
    for (const n of ok) assert.ok(n >= 85, `per minute: ${ok}`);
    // Refusals that come back at once (50 ms beside 3-s answers) cost the server little: the limit tolerates up to
    // one per accepted request (Google SRE's client-side throttling, K = 2), never a storm.
    assert.ok(sim.count('overload') <= sim.count('ok'), `${sim.count('overload')} refused for ${sim.count('ok')} accepted`);
    assert.ok(sim.maxInFlight <= 8);
    assert.ok(results.every((r) => r.decision === 'done'));
  });
});
