import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, decide, defaultRetryPolicy, humanMs, resolveRetryOptions } from '../../src/scheduler/index.ts';
import { isTransientFailure, pollDelayMs } from '../../src/scheduler/retry.ts';
import type { Decision } from '../../src/scheduler/index.ts';
import type { ErrorOutcome, ErrorReason, Outcome } from '../../src/types.ts';
import { AuthError, BillingError, ModelNotFoundError, OptionError, PermissionError, QuotaExhaustedError } from '../../src/errors.ts';
import { seeded } from '../helpers/sim.ts';

const o = resolveRetryOptions();
const half = () => 0.5;
const err = (reason: ErrorReason, extra: Partial<ErrorOutcome> = {}): Outcome => ({ kind: 'error', reason, message: `${reason} happened`, ...extra });
const first = { attempt: 1, noImageCount: 0 };

function retry(d: Decision): Extract<Decision, { action: 'retry' }> {
  assert.equal(d.action, 'retry', `expected a retry, got ${JSON.stringify(d)}`);
  return d as Extract<Decision, { action: 'retry' }>;
}

function stopError(d: Decision): Error {
  assert.equal(d.action, 'stop_run');
  return (d as Extract<Decision, { action: 'stop_run' }>).error;
}

describe('retry policy: decisions by outcome', () => {
  test('an image is done, a safety block gives up at once', () => {
    assert.deepEqual(decide({ kind: 'image', images: [], text: [] }, first, o, half), { action: 'done' });
    assert.deepEqual(decide({ kind: 'blocked', blockReason: 'IMAGE_SAFETY' }, first, o, half), { action: 'give_up' });
  });

  test('no_image is retried immediately with reinforcement noImageRetries times, then given up', () => {
    const noImage: Outcome = { kind: 'no_image', text: ['sure!'], finishReason: 'STOP' };
    assert.deepEqual(decide(noImage, { attempt: 1, noImageCount: 1 }, o, half), { action: 'retry', delayMs: 0, reinforce: true, serverDelay: false });
    assert.equal(decide(noImage, { attempt: 2, noImageCount: 2 }, o, half).action, 'retry');
    assert.deepEqual(decide(noImage, { attempt: 3, noImageCount: 3 }, o, half), { action: 'give_up' });
    const none = resolveRetryOptions({ noImageRetries: 0 });
    assert.deepEqual(decide(noImage, { attempt: 1, noImageCount: 1 }, none, half), { action: 'give_up' });
  });

  for (const reason of ['quota', 'server', 'network', 'timeout'] as const) {
    test(`${reason} is retried with backoff until maxAttempts`, () => {
      const d = retry(decide(err(reason), first, o, half));
      assert.equal(d.serverDelay, false);
      assert.equal(d.reinforce, false);
      assert.equal(d.delayMs, 500); // 0.5 × base 1000
      assert.equal(decide(err(reason), { attempt: 5, noImageCount: 0 }, o, half).action, 'retry');
      assert.deepEqual(decide(err(reason), { attempt: 6, noImageCount: 0 }, o, half), { action: 'give_up' });
    });
  }

  test('invalid_request and cancelled give up without retrying', () => {
    assert.deepEqual(decide(err('invalid_request', { httpStatus: 400 }), first, o, half), { action: 'give_up' });
    assert.deepEqual(decide(err('cancelled'), first, o, half), { action: 'give_up' });
  });

  test('an error after a no_image keeps the reinforcement on the next attempt', () => {
    assert.equal(retry(decide(err('server'), { attempt: 2, noImageCount: 1 }, o, half)).reinforce, true);
  });

  test('auth, permission and not_found stop the run with typed errors', () => {
    const auth = stopError(decide(err('auth', { httpStatus: 400, errorReason: 'API_KEY_INVALID' }), first, o, half));
    assert.ok(auth instanceof AuthError);
    assert.equal(auth.httpStatus, 400);
    assert.equal(auth.errorReason, 'API_KEY_INVALID');
    assert.ok(stopError(decide(err('permission', { httpStatus: 403 }), first, o, half)) instanceof PermissionError);
    const nf = stopError(decide(err('not_found', { message: 'models/gemini-9-image is not found for API version v1beta' }), first, o, half));
    assert.ok(nf instanceof ModelNotFoundError);
    assert.equal(nf.model, 'gemini-9-image');
  });
});

describe('retry policy: quota', () => {
  test('a 429 with RetryInfo retries after exactly that delay plus at most 250 ms of jitter', () => {
    const q = err('quota', { httpStatus: 429, retryAfterMs: 47_000, quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' });
    assert.deepEqual(decide(q, first, o, () => 0), { action: 'retry', delayMs: 47_000, reinforce: false, serverDelay: true });
    const top = retry(decide(q, first, o, () => 0.999999));
    assert.ok(top.delayMs <= 47_250 && top.delayMs > 47_240, String(top.delayMs));
    // Small delays: jitter is at most 10 % of them.
    const small = retry(decide(err('quota', { retryAfterMs: 1000 }), first, o, () => 0.999999));
    assert.ok(small.delayMs >= 1000 && small.delayMs <= 1100);
  });

  test('a per-day quota stops the run, naming the quota and when it resets', () => {
    const q = err('quota', { httpStatus: 429, quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaLimit: 250, retryAfterMs: 3_600_000 * 7 + 12 * 60_000 });
    const e = stopError(decide(q, { attempt: 1, noImageCount: 0, now: 1_000 }, o, half));
    assert.ok(e instanceof QuotaExhaustedError);
    assert.equal(e.quotaId, 'GenerateRequestsPerDayPerProjectPerModel-FreeTier');
    assert.equal(e.quotaLimit, 250);
    assert.equal(e.resetAt, 1_000 + 3_600_000 * 7 + 12 * 60_000);
    assert.match(e.message, /GenerateRequestsPerDayPerProjectPerModel-FreeTier/);
    assert.match(e.message, /limit 250/);
    assert.match(e.message, /resets in 7h 12m/);
  });

  test('a per-day quota without a delay still stops, and says daily quotas reset at midnight Pacific', () => {
    const e = stopError(decide(err('quota', { quotaId: 'GenerateRequestsPerDayPerProjectPerModel' }), first, o, half));
    assert.ok(e instanceof QuotaExhaustedError);
    assert.match(e.message, /midnight Pacific/);
  });

  test('limit 0 stops the run as billing even when the quota id says per minute', () => {
    const e = stopError(decide(err('quota', { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaLimit: 0, retryAfterMs: 47_884 }), first, o, half));
    assert.ok(e instanceof BillingError);
    assert.equal(e.quotaId, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
    assert.match(e.message, /^billing, not rate: .*limit of 0/);
  });

  test('a delay beyond maxRetryDelayMs stops the run; at the threshold it is still a retry', () => {
    const over = stopError(decide(err('quota', { retryAfterMs: 300_001 }), first, o, half));
    assert.ok(over instanceof QuotaExhaustedError);
    assert.equal(over.retryAfterMs, 300_001);
    assert.equal(decide(err('quota', { retryAfterMs: 300_000 }), first, o, half).action, 'retry');
    const strict = resolveRetryOptions({ maxRetryDelayMs: 10_000 });
    assert.equal(decide(err('quota', { retryAfterMs: 10_001 }), first, strict, half).action, 'stop_run');
  });

  test('run-level quota errors win over the attempt limit', () => {
    assert.equal(decide(err('quota', { quotaId: 'XPerDay' }), { attempt: 6, noImageCount: 0 }, o, half).action, 'stop_run');
  });
});

describe('retry policy: backoff', () => {
  test('full jitter: uniform in [0, min(cap, base × 2^(n-1))), growing and capped', () => {
    const random = seeded(42);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      let max = 0;
      let min = Infinity;
      for (let i = 0; i < 400; i++) {
        const d = backoffDelayMs(attempt, o, random);
        assert.ok(d >= 0 && d < ceiling, `attempt ${attempt}: ${d} outside [0, ${ceiling})`);
        max = Math.max(max, d);
        min = Math.min(min, d);
      }
      // Full jitter really spreads over the whole range (not "exponential ± 10 %").
      assert.ok(max > ceiling * 0.9 && min < ceiling * 0.1, `attempt ${attempt}: range ${min}..${max}`);
    }
    assert.equal(backoffDelayMs(3, o, () => 0.999), Math.floor(0.999 * 4000));
    assert.equal(backoffDelayMs(30, o, () => 0.5), 30_000);
  });
});

describe('retry policy: options', () => {
  test('defaults are the documented ones', () => {
    assert.deepEqual({ ...o }, { ...defaultRetryPolicy });
    assert.equal(o.maxAttempts, 6);
    assert.equal(o.baseDelayMs, 1000);
    assert.equal(o.maxDelayMs, 60_000);
    assert.equal(o.noImageRetries, 2);
    assert.equal(o.maxRetryDelayMs, 300_000);
  });

  test('bad values are rejected naming the option', () => {
    assert.throws(() => resolveRetryOptions({ maxAttempts: 0 }), (e: unknown) => e instanceof OptionError && e.option === 'retry.maxAttempts');
    assert.throws(() => resolveRetryOptions({ baseDelayMs: -1 }), (e: unknown) => e instanceof OptionError && e.option === 'retry.baseDelayMs');
    assert.throws(() => resolveRetryOptions({ noImageRetries: 1.5 }), OptionError);
  });

  test('maxAttempts 1 never retries', () => {
    const once = resolveRetryOptions({ maxAttempts: 1 });
    assert.deepEqual(decide(err('server'), first, once, half), { action: 'give_up' });
    assert.deepEqual(decide({ kind: 'no_image', text: [] }, { attempt: 1, noImageCount: 1 }, once, half), { action: 'give_up' });
  });

  test('humanMs reads well', () => {
    assert.equal(humanMs(250), '250ms');
    assert.equal(humanMs(37_000), '37s');
    assert.equal(humanMs(245_000), '4m 5s');
    assert.equal(humanMs(7 * 3_600_000), '7h');
  });
});

describe('polling through the retry policy', () => {
  test('pollDelayMs: the interval or a longer announced delay, plus the policy jitter (≤ 10%, ≤ 250 ms)', () => {
    assert.equal(pollDelayMs(1000, undefined, () => 0), 1000);
    assert.equal(pollDelayMs(1000, undefined, () => 1), 1100);
    assert.equal(pollDelayMs(1000, 4000, () => 0.5), 4125);
    assert.equal(pollDelayMs(60_000, 100, () => 1), 60_250);
    assert.equal(pollDelayMs(200, 0, () => 0.5), 210);
  });

  test('isTransientFailure: the retried reasons; without one, no answer or a 5xx', () => {
    for (const reason of ['quota', 'server', 'network', 'timeout']) assert.ok(isTransientFailure({ reason, httpStatus: 400 }), reason);
    for (const reason of ['auth', 'invalid_request', 'not_found', 'billing']) assert.ok(!isTransientFailure({ reason, httpStatus: 503 }), reason);
    assert.ok(isTransientFailure({ httpStatus: 0 }));
    assert.ok(isTransientFailure({ httpStatus: 502 }));
    assert.ok(!isTransientFailure({ httpStatus: 404 }));
  });
});
