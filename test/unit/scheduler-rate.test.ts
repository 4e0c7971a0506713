import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { QuotaLearner, RateLimiter, RetryBudget } from '../../src/scheduler/index.ts';
import { OptionError } from '../../src/errors.ts';

/** A caller that starts whenever the limiter allows, until `until`; returns the start times. */
function greedy(rl: RateLimiter, until: number, cost = 1, from = 0): number[] {
  const starts: number[] = [];
  let now = from;
  while (now < until) {
    const wait = rl.tryTake(cost, now);
    if (wait === 0) starts.push(now);
    else now += wait;
  }
  return starts;
}

function maxInWindow(starts: number[], windowMs: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('RateLimiter (GCRA)', () => {
  test('burst 0: exactly one start per interval, at the quota and never above it', () => {
    const rl = new RateLimiter({ perMinute: 60 });
    assert.equal(rl.reserve(1, 0), 0);
    rl.take(1, 0);
    assert.equal(rl.reserve(1, 0), 1000);
    assert.equal(rl.reserve(1, 400), 600);
    const starts = greedy(new RateLimiter({ perMinute: 60 }), 600_000);
    assert.equal(starts.length, 600, 'ten minutes at 60/min: 600 starts, none lost');
    assert.equal(maxInWindow(starts, 60_000), 60);
  });

  for (const [perMinute, burst] of [
    [60, 1],
    [7, 0],
    [500, 10],
    [3, 2],
  ] as const) {
    test(`${perMinute}/min burst ${burst}: any 60 s window holds at most rate + burst starts`, () => {
      const starts = greedy(new RateLimiter({ perMinute, burst }), 900_000);
      assert.ok(maxInWindow(starts, 60_000) <= perMinute + burst);
      // Sends at the quota: over 15 minutes the count is the rate × 15 (+ the initial burst).
      assert.ok(starts.length >= perMinute * 15, `${starts.length} < ${perMinute * 15}`);
      assert.ok(starts.length <= perMinute * 15 + burst + 1);
    });
  }

  test('an idle limiter only ever saves up the burst, not the idle time', () => {
    const rl = new RateLimiter({ perMinute: 60, burst: 2 });
    rl.take(1, 0);
    const later = greedy(rl, 3_600_000 + 1, 1, 3_600_000);
    assert.deepEqual(later, [3_600_000, 3_600_000, 3_600_000], 'capacity is burst + 1 = 3');
  });

  test('costs above the capacity go when the bucket is full and leave a debt (long-run rate holds)', () => {
    const rl = new RateLimiter({ perMinute: 10 }); // one image per 6 s
    assert.equal(rl.tryTake(4, 0), 0);
    assert.equal(rl.reserve(1, 0), 24_000);
    assert.equal(rl.reserve(4, 0), 24_000);
    const starts = greedy(new RateLimiter({ perMinute: 10 }), 600_000, 4);
    assert.equal(starts.length, 25, '100 images in 10 minutes = 25 four-image jobs');
  });

  test('setRate keeps the outstanding debt in units', () => {
    const rl = new RateLimiter({ perMinute: 60 });
    rl.take(1, 0);
    rl.take(1, 0); // debt: 2 units, 2 s at 60/min
    assert.equal(rl.reserve(1, 0), 2000);
    rl.setRate(30, 0); // the same 2 units now take 2 s each
    assert.equal(rl.reserve(1, 0), 4000);
    assert.equal(rl.perMinute, 30);
    const fresh = new RateLimiter({ perMinute: 60 });
    fresh.setRate(120, 5_000);
    assert.equal(fresh.reserve(1, 5_000), 0);
  });

  test('speedUp 4: a window\'s allowance starts 4 × faster, and never more than the rate in any window', () => {
    const rl = new RateLimiter({ perMinute: 60, speedUp: 4 });
    const starts = greedy(rl, 900_000);
    assert.deepEqual(starts.slice(0, 3), [0, 250, 500], 'one start per 250 ms instead of per second');
    assert.equal(starts[59], 14_750, 'the first window\'s 60 have all started after 15 s');
    // The 61st waits until the first leaves the window, with the 1 % margin for the server's edge.
    assert.equal(starts[60], 60_600);
    assert.equal(maxInWindow(starts, 60_000), 60);
    assert.ok(starts.length >= 60 * 14, `${starts.length} starts in 15 minutes`);
  });

  test('speedUp with image costs: the window counts units, not starts', () => {
    const starts = greedy(new RateLimiter({ perMinute: 10, speedUp: 2 }), 600_000, 2);
    assert.equal(maxInWindow(starts, 60_000), 5, 'five 2-image jobs are the 10 images of a window');
    assert.deepEqual(starts.slice(0, 6), [0, 6_000, 12_000, 18_000, 24_000, 60_600]);
  });

  test('setSpeedUp(1) goes back to even pacing and still keeps the sped-up window within the rate', () => {
    const rl = new RateLimiter({ perMinute: 60, speedUp: 4 });
    const early = greedy(rl, 5_000); // 20 starts in 5 s
    assert.equal(early.length, 20);
    rl.setSpeedUp(1);
    assert.equal(rl.speedUp, 1);
    const later = greedy(rl, 180_000, 1, 5_000);
    assert.ok(later.slice(1).every((t, i) => t - later[i]! >= 1000), 'one start per second after the switch');
    assert.ok(maxInWindow([...early, ...later], 60_000) <= 60);
    assert.throws(() => rl.setSpeedUp(0.5), OptionError);
  });

  test('bad options are rejected', () => {
    assert.throws(() => new RateLimiter({ perMinute: 10, speedUp: 0.5 }), OptionError);
    assert.throws(() => new RateLimiter({ perMinute: 10, speedUp: Number.POSITIVE_INFINITY }), OptionError);
    assert.throws(() => new RateLimiter({ perMinute: 0 }), OptionError);
    assert.throws(() => new RateLimiter({ perMinute: 10, burst: -1 }), OptionError);
    assert.throws(() => new RateLimiter({ perMinute: Number.NaN }), OptionError);
  });
});

describe('RetryBudget', () => {
  test('allows minPerWindow retries, then a ratio of attempts, over a sliding window', () => {
    const b = new RetryBudget({ ratio: 0.2, windowMs: 60_000, minPerWindow: 3 });
    for (let i = 0; i < 3; i++) {
      assert.equal(b.canRetry(0), true);
      b.recordAttempt(0);
      b.recordRetry(0);
    }
    assert.equal(b.canRetry(0), false, '3 retries spent; 3 attempts × 0.2 < 3');
    for (let i = 0; i < 12; i++) b.recordAttempt(1);
    assert.equal(b.canRetry(1), false, '15 attempts × 0.2 = 3, not above 3 retries');
    b.recordAttempt(1);
    b.recordAttempt(1);
    assert.equal(b.canRetry(1), true, '17 attempts × 0.2 = 3.4 > 3 retries');
    b.recordAttempt(1);
    b.recordRetry(1);
    assert.equal(b.canRetry(1), false);
    assert.equal(b.canRetry(60_001), true, 'the first retries left the window');
    b.reset();
    assert.equal(b.canRetry(60_001), true);
  });

  test('bad options are rejected', () => {
    assert.throws(() => new RetryBudget({ ratio: -1 }), OptionError);
    assert.throws(() => new RetryBudget({ minPerWindow: 1.5 }), OptionError);
  });
});

describe('QuotaLearner', () => {
  const id = 'GenerateRequestsPerMinutePerProjectPerModel';
  let nextId = 0;
  /** `n` starts 100 ms apart from `at`. */
  const starts = (q: QuotaLearner, n: number, at: number) => {
    for (let i = 0; i < n; i++) q.recordStart(nextId++, at + i * 100);
  };
  /** A learner that counted 60 in its first window, then 20 in the next (a 429 at 62 s): the quota dropped. */
  const droppedTo20 = () => {
    const q = new QuotaLearner();
    starts(q, 60, 0);
    assert.equal(q.onQuota(6_050, 6_000, 54_000, id), 60);
    starts(q, 20, 60_000);
    assert.equal(q.onQuota(62_050, 62_000, 58_000, id), 20);
    q.noteBinding();
    return q;
  };

  test('learns the quota as the accepted starts of the window that ran out', () => {
    const q = new QuotaLearner();
    // Starts from the window before (must not count), then 30 in this window, then the one that got 429.
    for (let i = 0; i < 5; i++) q.recordStart(i, 50_000 + i);
    for (let i = 0; i < 30; i++) q.recordStart(100 + i, 60_000 + i * 500);
    q.recordStart(999, 80_000);
    q.recordRejected(999);
    // 429 answered at 80 050 saying the window resets at 120 000 (the server measured from arrival).
    assert.equal(q.onQuota(80_050, 80_000, 40_000, id), 30);
    assert.equal(q.perMinute, 30);
    // A second 429 from the same window teaches nothing new.
    q.recordStart(1000, 80_010);
    q.recordRejected(1000);
    assert.equal(q.onQuota(80_060, 80_010, 39_990, id), undefined);
  });

  test('ignores quotas that are not per minute, long delays and delays it cannot place', () => {
    const q = new QuotaLearner();
    for (let i = 0; i < 10; i++) q.recordStart(i, i);
    assert.equal(q.onQuota(100, 90, 30_000, 'GenerateContentInputTokensPerModelPerDay'), undefined);
    assert.equal(q.onQuota(100, 90, 120_000, id), undefined);
    assert.equal(q.onQuota(100, 90, undefined, id), undefined);
    assert.equal(q.onQuota(100, 90, 30_000, undefined), undefined, 'no QuotaFailure: which window?');
    assert.equal(q.perMinute, undefined);
  });

  test('does not learn from a window that began before its first request (a fresh run, a resume)', () => {
    const q = new QuotaLearner();
    // The run starts 40 s into the server's window; 3 requests later the window is exhausted.
    for (let i = 0; i < 3; i++) q.recordStart(i, 40_000 + i * 1000);
    q.recordStart(3, 43_000);
    q.recordRejected(3);
    assert.equal(q.onQuota(43_050, 43_000, 17_000, id), undefined);
    assert.equal(q.perMinute, undefined);
  });

  test('probes upwards only after a whole clean window in which it held the pool back', () => {
    const q = new QuotaLearner();
    for (let i = 0; i < 40; i++) q.recordStart(i, i * 100);
    assert.equal(q.onQuota(4_050, 4_000, 56_000, id), 40);
    assert.equal(q.maybeProbe(200_000), undefined, 'never binding: no evidence the rate is too low');
    q.noteBinding();
    assert.equal(q.maybeProbe(100_000), undefined, 'clean since the reset at 60 050: not yet a whole window');
    assert.equal(q.maybeProbe(120_100), 50, 'x1.25');
    q.noteBinding();
    assert.equal(q.maybeProbe(180_100), 75, 'x1.5');
    q.noteBinding();
    assert.equal(q.maybeProbe(240_100), 150, 'x2');
  });

  test('after the quota dropped, the first probe goes straight back to the highest rate seen', () => {
    const q = droppedTo20();
    assert.equal(q.maybeProbe(180_100), 60);
  });

  test('after a drop, the first window after the 429 is probed at once at the highest rate; two such probes refused in a row stop that', () => {
    const q = droppedTo20();
    assert.equal(q.maybeProbe(119_000), undefined, 'not inside the window that ran out');
    assert.equal(q.maybeProbe(120_100), 60, 'at the start of the next window: straight back to 60');
    // Still 20: the probe is refused at 122 s (first early failure), and again in the window after (second).
    starts(q, 20, 120_100);
    assert.equal(q.onQuota(122_150, 122_100, 57_950, id), 20);
    q.noteBinding();
    assert.equal(q.maybeProbe(180_100), 60, 'a second early probe');
    starts(q, 20, 180_100);
    assert.equal(q.onQuota(182_150, 182_100, 57_950, id), 20);
    q.noteBinding();
    assert.equal(q.maybeProbe(240_100), undefined, 'two early probes refused in a row: only a clean window probes now');
    assert.equal(q.maybeProbe(300_100), 60, 'after a whole clean window, back to the highest rate');
  });

  test('an early probe that holds for a whole window re-arms early probing for the next drop', () => {
    const q = droppedTo20();
    assert.equal(q.maybeProbe(120_100), 60, 'early probe: the quota is back, no 429 answers it');
    q.noteBinding();
    assert.equal(q.maybeProbe(180_100), 75, 'a whole clean window at 60: the usual x1.25');
    // A later drop is probed early again.
    starts(q, 30, 240_000);
    assert.equal(q.onQuota(243_050, 243_000, 57_000, id), 30);
    q.noteBinding();
    assert.equal(q.maybeProbe(300_100), 60, 'early again, to the highest rate a window counted (60; 75 was a probe)');
  });

  test('a long fast run: starts are trimmed a window at a time, not at every start, and a window is still counted exactly', () => {
    const q = new QuotaLearner();
    // 100 starts a second for ten minutes (60,000 starts).
    let trims = 0;
    let held = 0;
    for (let i = 0; i < 60_000; i++) {
      q.recordStart(i, i * 10);
      if (q.recordedStarts < held) trims++;
      held = q.recordedStarts;
      assert.ok(held <= 3 * 6000 + 1, `at most three windows of starts held (${held} at start ${i})`);
    }
    // Trimming at every start once the oldest passed two windows made ~48,000 trims (each a copy of ~12,000 records).
    assert.ok(trims >= 6 && trims <= 10, `about one trim per window after the first three (${trims})`);
    assert.ok(held >= 2 * 6000, 'two windows are always kept');
    // A 429 at the end whose window resets in 10 s began at 550 s: the 5,000 starts since then are the quota.
    q.recordStart(60_000, 600_000);
    assert.equal(q.onQuota(600_050, 600_000, 10_000, id), 5000);
  });
});
