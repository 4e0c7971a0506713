// Real recorded error bodies (test/fixtures/replay) through the one outcome parser and the one retry policy.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeFromError } from '../../src/gemini/outcome.ts';
import { decide, resolveRetryOptions } from '../../src/scheduler/index.ts';
import type { Decision, RetryContext } from '../../src/scheduler/index.ts';
import type { ErrorOutcome } from '../../src/types.ts';
import { AuthError, BillingError, ModelNotFoundError, PermissionError, QuotaExhaustedError } from '../../src/errors.ts';
import { recorded } from '../helpers/replay.ts';

const policy = resolveRetryOptions();
const zero = () => 0;
const first: RetryContext = { attempt: 1, noImageCount: 0, now: 0 };

function replayed(name: string): ErrorOutcome {
  const r = recorded(name);
  return outcomeFromError(r.status, r.body.toString('utf8'), new Headers(r.headers), { now: 0 });
}

function stopped(d: Decision): Error {
  assert.equal(d.action, 'stop_run', `expected a run stop, got ${JSON.stringify(d)}`);
  return (d as Extract<Decision, { action: 'stop_run' }>).error;
}

describe('replayed 429s are read whole', () => {
  test('per-minute tokens + per-minute requests + per-day requests with RetryInfo 3s: a pause, not a stop', () => {
    const o = replayed('429-minute-and-day');
    assert.equal(o.reason, 'quota');
    assert.equal(o.retryAfterMs, 3000);
    assert.deepEqual(
      o.violations?.map((v) => [v.quotaId, v.quotaLimit]),
      [
        ['GenerateContentPaidTierInputTokensPerModelPerMinute', 1_000_000],
        ['GenerateRequestsPerMinutePerProjectPerModel', 1000],
        ['GenerateRequestsPerDayPerProjectPerModel', 10_000],
      ],
    );
    assert.equal(o.quotaId, 'GenerateContentPaidTierInputTokensPerModelPerMinute', 'the delay is about the first per-minute violation');
    const d = decide(o, first, policy, zero);
    assert.deepEqual(d, { action: 'retry', delayMs: 3000, reinforce: false, serverDelay: true });
  });

  test('the same per-day violation coming back after the wait stops the run for the day', () => {
    const o = replayed('429-minute-and-day');
    const e = stopped(decide(o, { ...first, attempt: 2, waitedOut: new Set(['GenerateRequestsPerDayPerProjectPerModel']) }, policy, zero));
    assert.ok(e instanceof QuotaExhaustedError);
    assert.equal(e.quotaId, 'GenerateRequestsPerDayPerProjectPerModel');
    assert.equal(e.quotaLimit, 10_000);
    assert.match(e.message, /exhausted for today \(limit 10000\), still after the announced wait; daily quotas reset at midnight Pacific/);
    assert.doesNotMatch(e.message, /resets in 3s/, 'a 3 s RetryInfo is about the minute, never "the day resets in 3s"');
    // A per-day id that was waited out but is not listed again changes nothing.
    assert.equal(decide(o, { ...first, waitedOut: new Set(['SomethingElsePerDay']) }, policy, zero).action, 'retry');
  });

  test('the free-tier variant (per-day listed first, RetryInfo 47s) is a pause too', () => {
    const o = replayed('429-free-tier-minute-and-day');
    assert.equal(o.violations?.length, 3);
    assert.equal(o.quotaId, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
    const d = decide(o, first, policy, zero);
    assert.equal(d.action, 'retry');
    assert.equal((d as Extract<Decision, { action: 'retry' }>).delayMs, 47_000);
  });

  test('a per-day violation alone stops the run even with a short RetryInfo', () => {
    const e = stopped(decide(replayed('429-day-only'), first, policy, zero));
    assert.ok(e instanceof QuotaExhaustedError);
    assert.equal(e.quotaId, 'GenerateRequestsPerDayPerProjectPerModel-FreeTier');
    assert.match(e.message, /limit 25/);
  });

  test('a wait longer than maxRetryDelay stops the run even when only per-minute quotas are listed', () => {
    const o = { ...replayed('429-minute-and-day'), retryAfterMs: 301_000 };
    const e = stopped(decide(o, first, policy, zero));
    assert.ok(e instanceof QuotaExhaustedError);
    assert.match(e.message, /resets in 5m 1s/);
  });

  test('limit: 0 is billing: the run stops at once, naming billing and where to fix it', () => {
    const o = replayed('429-limit-0');
    assert.equal(o.quotaLimit, 0);
    const e = stopped(decide(o, first, policy, zero));
    assert.ok(e instanceof BillingError);
    assert.match(e.message, /^billing, not rate: .*GenerateRequestsPerDayPerProjectPerModel has a limit of 0.*aistudio\.google\.com/);
  });

  test('prepayment credits depleted is billing, not a rate limit, whatever the attempt', () => {
    const o = replayed('429-prepayment-depleted');
    assert.equal(o.reason, 'billing');
    for (const attempt of [1, 6]) {
      const e = stopped(decide(o, { ...first, attempt }, policy, zero));
      assert.ok(e instanceof BillingError);
      assert.match(e.message, /prepayment credits are depleted.*no wait will fix this/);
    }
  });

  test('a 429 without details is a rate signal: backoff with full jitter, never a stop', () => {
    const o = replayed('429-no-details');
    assert.equal(o.reason, 'quota');
    assert.equal(o.violations, undefined);
    assert.equal(o.retryAfterMs, undefined);
    const lo = decide(o, first, policy, () => 0);
    const hi = decide(o, first, policy, () => 0.999);
    assert.deepEqual(lo, { action: 'retry', delayMs: 0, reinforce: false, serverDelay: false });
    assert.deepEqual(hi, { action: 'retry', delayMs: 999, reinforce: false, serverDelay: false });
  });
});

describe('replayed errors that are not rate limits', () => {
  test('503 MODEL_CAPACITY_EXHAUSTED and 503 overloaded are transient', () => {
    const cap = replayed('503-model-capacity-exhausted');
    assert.equal(cap.reason, 'server');
    assert.equal(cap.errorReason, 'MODEL_CAPACITY_EXHAUSTED');
    assert.deepEqual(decide(cap, first, policy, zero), { action: 'retry', delayMs: 40_000, reinforce: false, serverDelay: true });
    const over = replayed('503-overloaded');
    assert.equal(over.reason, 'server');
    assert.equal(decide(over, first, policy, zero).action, 'retry');
    assert.equal(decide(replayed('500-internal'), first, policy, zero).action, 'retry');
  });

  test('403 SERVICE_DISABLED stops the run, says the API is not enabled and shows the activation link', () => {
    const o = replayed('403-service-disabled');
    assert.equal(o.reason, 'permission');
    assert.equal(o.errorReason, 'SERVICE_DISABLED');
    const url = 'https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=411082643095';
    assert.equal(o.activationUrl, url);
    const e = stopped(decide(o, first, policy, zero));
    assert.ok(e instanceof PermissionError);
    assert.equal(e.activationUrl, url);
    assert.match(e.message, /^the Gemini API \(generativelanguage\.googleapis\.com\) is not enabled on the project: enable it at https:\/\/console\.developers\.google\.com\/apis\/api\/generativelanguage/);
  });

  test('403 leaked key and 400 API_KEY_INVALID stop the run as a bad key', () => {
    const leaked = replayed('403-leaked-key');
    assert.equal(leaked.reason, 'auth');
    assert.ok(stopped(decide(leaked, first, policy, zero)) instanceof AuthError);
    const bad = replayed('400-api-key-invalid');
    assert.equal(bad.errorReason, 'API_KEY_INVALID');
    const e = stopped(decide(bad, first, policy, zero));
    assert.ok(e instanceof AuthError);
    assert.equal(e.httpStatus, 400);
  });

  test('404 for an unknown model stops the run naming the model', () => {
    const e = stopped(decide(replayed('404-model-not-found'), first, policy, zero));
    assert.ok(e instanceof ModelNotFoundError);
    assert.equal(e.model, 'gemini-exp-1206');
  });
});
