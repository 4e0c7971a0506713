import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveLimit, resolveAdaptiveOptions } from '../../src/scheduler/index.ts';
import { OptionError } from '../../src/errors.ts';
import { seeded } from '../helpers/sim.ts';

const RTT = 1000;

/**
 * One round trip of a closed loop: `limit` requests start together and finish RTT later. The
 * server drops every request beyond `capacity` in flight. Returns the limit after the round.
 */
function round(a: AdaptiveLimit, t: number, capacity: number): number {
  const n = a.limit;
  for (let i = 0; i < n; i++) a.onSample({ latencyMs: RTT, dropped: i >= capacity, inFlight: n, at: t + RTT });
  return a.limit;
}

describe('AdaptiveLimit (AIMD)', () => {
  test('starts at min(max, 8) and doubles per round trip until the first drop', () => {
    const a = new AdaptiveLimit({ max: 64 });
    assert.equal(a.limit, 8);
    assert.equal(new AdaptiveLimit({ max: 2 }).limit, 2);
    const seen = [a.limit];
    for (let r = 0; r < 3; r++) seen.push(round(a, r * RTT, Infinity));
    assert.deepEqual(seen, [8, 16, 32, 64]);
    assert.equal(round(a, 10 * RTT, Infinity), 64, 'never above the ceiling');
  });

  test('slow start: the limit is twice the admitted attempts running; their answers do not count again', () => {
    const a = new AdaptiveLimit({ max: 100 });
    assert.equal(a.onAdmitted(3), false, 'never below where it is');
    assert.equal(a.onAdmitted(8), true);
    assert.equal(a.limit, 16);
    a.onAdmitted(16);
    assert.equal(a.limit, 32);
    for (let i = 0; i < 16; i++) a.onSample({ latencyMs: 20_000, dropped: false, inFlight: 16, at: 20_000, admitted: true });
    assert.equal(a.limit, 32, 'already counted');
    a.onAdmitted(70);
    assert.equal(a.limit, 100, 'never above the ceiling');
  });

  test('a per-minute 429 (rate spent) ends slow start at what was in flight, without a cut; a plain 429 cuts', () => {
    const a = new AdaptiveLimit({ max: 100, initial: 40, dropTolerance: 0 });
    a.onSample({ latencyMs: 50, dropped: true, rateLimited: true, inFlight: 40, at: 1000 });
    assert.equal(a.limit, 40);
    a.onSample({ latencyMs: 50, dropped: true, rateLimited: true, inFlight: 12, at: 1000 });
    assert.equal(a.limit, 40, 'only the first ends slow start');
    assert.equal(a.slowStart, false);
    assert.equal(a.onAdmitted(40), false, 'no admitted growth after slow start');
    for (let i = 0; i < 20; i++) a.onSample({ latencyMs: 50, dropped: true, inFlight: 40, at: 2000 + i });
    assert.equal(a.limit, 28);
  });

  test('restart() after an outage slow-starts back to 0.7 × the limit before its run of cuts, then grows by one per round trip', () => {
    const a = new AdaptiveLimit({ max: 100, initial: 40, dropTolerance: 0 });
    for (let i = 0; i < 40; i++) a.onSample({ latencyMs: 50, dropped: true, inFlight: 1, at: 60_000 + i * 30_000 });
    assert.equal(a.limit, 1);
    assert.equal(a.restart(), true);
    assert.equal(a.slowStart, true);
    a.onAdmitted(1);
    assert.equal(a.limit, 2);
    for (let i = 0; i < 40 && a.slowStart; i++) a.onAdmitted(a.limit);
    assert.equal(a.limit, 28, 'slow start ends at 0.7 × 40');
    assert.equal(a.slowStart, false);
    assert.equal(a.restart(), false, 'nothing to restart towards');
  });

  test('a burst of drops from one window cuts once (×0.7), not once per 429', () => {
    const a = new AdaptiveLimit({ max: 20, initial: 20, dropTolerance: 0 });
    for (let i = 0; i < 20; i++) a.onSample({ latencyMs: 500, dropped: true, inFlight: 20, at: 10_000 + i });
    assert.equal(a.limit, 14);
    // A drop from an attempt that started after the cut is a new congestion event.
    a.onSample({ latencyMs: 10, dropped: true, inFlight: 14, at: 10_100 });
    assert.equal(a.limit, 9);
    assert.equal(a.slowStart, false);
  });

  test('after the first drop it grows by about one per round trip, and only when the limit is used', () => {
    const a = new AdaptiveLimit({ max: 40, initial: 10, slowStart: false });
    round(a, 0, Infinity);
    assert.equal(a.limit, 11);
    round(a, RTT, Infinity);
    assert.equal(a.limit, 12);
    // 100 healthy samples with only 2 in flight out of 12: no evidence that more would be better.
    for (let i = 0; i < 100; i++) a.onSample({ latencyMs: RTT, dropped: false, inFlight: 2, at: 5 * RTT });
    assert.equal(a.limit, 12);
  });

  for (const dropTolerance of [0, 0.05]) {
  test(`converges to a server capacity, oscillates around it, and recovers when it rises (dropTolerance ${dropTolerance})`, () => {
    const a = new AdaptiveLimit({ max: 64, dropTolerance });
    let t = 0;
    let capacity = 20;
    const history: number[] = [];
    for (let r = 0; r < 60; r++, t += RTT) history.push(round(a, t, capacity));
    const tail = history.slice(20);
    // The tolerance lets about that share of answers be drops before it cuts.
    const overshoot = Math.floor(capacity * (1 + 2 * dropTolerance)) + 1;
    assert.ok(Math.max(...tail) <= overshoot, `overshoot: ${Math.max(...tail)} > ${overshoot}`);
    assert.ok(Math.min(...tail) >= Math.floor(capacity * 0.7) - 1, `undershoot: ${Math.min(...tail)}`);
    const mean = tail.reduce((s, x) => s + x, 0) / tail.length;
    assert.ok(mean >= capacity * 0.8, `mean ${mean}`);
    capacity = 30;
    for (let r = 0; r < 20; r++, t += RTT) history.push(round(a, t, capacity));
    const late = history.slice(-10);
    assert.ok(Math.max(...late) >= 29, `20 round trips after the capacity rose to 30: ${late}`);
  });
  }

  test('random drops (2 % of answers, whatever the load) do not hold the limit down; without tolerance they do', () => {
    const random = seeded(9);
    const run = (dropTolerance: number) => {
      const a = new AdaptiveLimit({ max: 100, dropTolerance });
      for (let r = 0, t = 0; r < 100; r++, t += RTT) {
        const n = a.limit;
        for (let i = 0; i < n; i++) a.onSample({ latencyMs: RTT, dropped: random() < 0.02, inFlight: n, at: t + RTT });
      }
      return a.limit;
    };
    const tolerant = run(0.05);
    const classic = run(0);
    assert.ok(tolerant >= 90, `tolerant limit ${tolerant}`);
    assert.ok(classic < 40, `classic AIMD limit ${classic}`);
  });

  test('drops are weighed by the time they held a slot: fast refusals of a share of requests do not cut, slow ones or a majority do', () => {
    const random = seeded(4);
    /** 100 round trips of 8-s answers at the limit; each request is refused with `p`, after `refusalMs`. */
    const run = (p: number, refusalMs: number) => {
      const a = new AdaptiveLimit({ max: 32, initial: 32, slowStart: false });
      for (let r = 0, t = 0; r < 100; r++, t += 8000) {
        const n = a.limit;
        for (let i = 0; i < n; i++) {
          const dropped = random() < p;
          a.onSample({ latencyMs: dropped ? refusalMs : 8000, dropped, inFlight: n, at: t + (dropped ? refusalMs : 8000) });
        }
      }
      return a.limit;
    };
    // Vertex's bare 429: 30 % of requests refused at once. The slots lost ~0.3 % of their time: no reason to cut.
    assert.equal(run(0.3, 20), 32);
    // The same refusals after a whole answer's time (a 503 after a long wait): 30 % of the time is lost, so it cuts.
    assert.ok(run(0.3, 8000) < 16, 'slow drops cut');
    // Most requests refused, however fast: the client must not keep sending twice what the server accepts.
    assert.ok(run(0.7, 20) < 8, 'a majority of refusals cuts');
  });

  test('never below min', () => {
    const a = new AdaptiveLimit({ max: 8, min: 2, initial: 2 });
    for (let i = 0; i < 10; i++) a.onSample({ latencyMs: 1, dropped: true, inFlight: 2, at: i * 10 });
    assert.equal(a.limit, 2);
  });

  test('options are validated against the ceiling', () => {
    assert.deepEqual(resolveAdaptiveOptions({}, 8), { min: 1, max: 8, initial: 8, backoffRatio: 0.7, increase: 1, slowStart: true, dropTolerance: 0.05, dropCountTolerance: 0.5, admittedAfterMs: 2000 });
    assert.throws(() => resolveAdaptiveOptions({ dropCountTolerance: 1 }, 8), OptionError);
    assert.throws(() => resolveAdaptiveOptions({ admittedAfterMs: 0 }, 8), OptionError);
    assert.throws(() => resolveAdaptiveOptions({ dropTolerance: 1 }, 8), OptionError);
    assert.throws(() => resolveAdaptiveOptions({ initial: 9 }, 8), OptionError);
    assert.throws(() => resolveAdaptiveOptions({ backoffRatio: 1 }, 8), OptionError);
    assert.throws(() => resolveAdaptiveOptions({ min: 0 }, 8), OptionError);
  });
});
