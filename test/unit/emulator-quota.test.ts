import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, flushMicrotasks } from '../../src/internal/clock.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.ts';

const MODEL = 'gemini-2.5-flash-image';

interface ErrorJson {
  error: { code: number; message: string; status: string; details?: Array<Record<string, unknown>> };
}

async function generate(emu: Emulator, prompt = 'a fox', body?: unknown): Promise<Response> {
  return fetch(`${emu.url}/v1beta/models/${MODEL}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k' },
    body: JSON.stringify(body ?? { contents: [{ role: 'user', parts: [{ text: prompt }] }] }),
  });
}

async function with_(opts: EmulatorOptions, fn: (emu: Emulator, clock: FakeClock) => Promise<void>): Promise<void> {
  const clock = new FakeClock(1000);
  const emu = await startEmulator({ existingUser: true, clock, ...opts });
  try {
    await fn(emu, clock);
  } finally {
    await emu.close();
  }
}

describe('emulator quota', () => {
  test('429 body has Google shape: Help, QuotaFailure, RetryInfo, "Please retry in"', () =>
    with_({ quota: { requestsPerMinute: 2 } }, async (emu, clock) => {
      assert.equal((await generate(emu)).status, 200);
      assert.equal((await generate(emu)).status, 200);
      await clock.advance(12_345);
      const res = await generate(emu);
      assert.equal(res.status, 429);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json; charset=UTF-8$/);
      assert.equal(res.headers.get('retry-after'), null, 'Google sends no Retry-After');
      const body = (await res.json()) as ErrorJson;
      assert.equal(body.error.code, 429);
      assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
      assert.ok(body.error.message.startsWith('You exceeded your current quota, please check your plan and billing details.'));
      assert.ok(
        body.error.message.endsWith(
          '\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_requests, limit: 2, model: gemini-2.5-flash-image\nPlease retry in 47.655s.',
        ),
        body.error.message,
      );
      const types = body.error.details?.map((d) => d['@type']);
      assert.deepEqual(types, [
        'type.googleapis.com/google.rpc.Help',
        'type.googleapis.com/google.rpc.QuotaFailure',
        'type.googleapis.com/google.rpc.RetryInfo',
      ]);
      assert.deepEqual(body.error.details?.[1]?.violations, [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests',
          quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
          quotaDimensions: { location: 'global', model: MODEL },
          quotaValue: '2',
        },
      ]);
      assert.equal(body.error.details?.[2]?.retryDelay, '47.655s');
      assert.deepEqual(emu.counters.quota429ByQuotaId, { GenerateRequestsPerMinutePerProjectPerModel: 1 });
    }));

  test('whole-second delays are emitted without a fraction, and the window resets', () =>
    with_({ quota: { requestsPerMinute: 1 } }, async (emu, clock) => {
      assert.equal((await generate(emu)).status, 200);
      const body = (await (await generate(emu)).json()) as ErrorJson;
      assert.equal(body.error.details?.[2]?.retryDelay, '60s');
      assert.match(body.error.message, /Please retry in 60s\.$/);
      await clock.advance(60_000);
      assert.equal((await generate(emu)).status, 200);
    }));

  test('RetryInfo reports the real (scaled) time', () =>
    with_({ quota: { requestsPerMinute: 1 }, timeScale: 0.001 }, async (emu, clock) => {
      assert.equal((await generate(emu)).status, 200);
      await clock.advance(15);
      const body = (await (await generate(emu)).json()) as ErrorJson;
      assert.equal(body.error.details?.[2]?.retryDelay, '0.045s');
      await clock.advance(45);
      assert.equal((await generate(emu)).status, 200);
    }));

  test('limit 0 answers "limit: 0"; Retry-After only on request', () =>
    with_({ quota: { requestsPerMinute: 0 }, retryAfterHeader: true }, async (emu) => {
      const res = await generate(emu);
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '60');
      const body = (await res.json()) as ErrorJson;
      assert.match(body.error.message, /limit: 0, model: gemini-2\.5-flash-image\n/);
      assert.equal((body.error.details?.[1]?.violations as Array<Record<string, unknown>>)[0]?.quotaValue, '0');
    }));

  test('per-day and images-per-minute quotas name their quotaId; text-only requests use no image quota', () =>
    with_({ quota: { imagesPerMinute: 1, requestsPerDay: 2 } }, async (emu, clock) => {
      assert.equal((await generate(emu)).status, 200);
      const ipm = (await (await generate(emu)).json()) as ErrorJson;
      assert.equal((ipm.error.details?.[1]?.violations as Array<Record<string, unknown>>)[0]?.quotaId, 'GenerateImagesPerMinutePerProjectPerModel');
      const textOnly = { contents: [{ parts: [{ text: 'describe' }] }], generationConfig: { responseModalities: ['TEXT'] } };
      assert.equal((await generate(emu, '', textOnly)).status, 200);
      await clock.advance(60_000);
      const day = await generate(emu);
      assert.equal(day.status, 429);
      const body = (await day.json()) as ErrorJson;
      assert.equal((body.error.details?.[1]?.violations as Array<Record<string, unknown>>)[0]?.quotaId, 'GenerateRequestsPerDayPerProjectPerModel');
      assert.equal(body.error.details?.[2]?.retryDelay, `${(86_400_000 - 60_000) / 1000}s`);
    }));

  test('rejected requests do not count against any window', () =>
    with_({ quota: { requestsPerMinute: 1, requestsPerDay: 3 } }, async (emu, clock) => {
      for (let minute = 0; minute < 3; minute++) {
        assert.equal((await generate(emu)).status, 200, `minute ${minute}`);
        assert.equal((await generate(emu)).status, 429);
        assert.equal((await generate(emu)).status, 429);
        await clock.advance(60_000);
      }
      // Three accepted in three minutes: the fourth is the first day-quota refusal.
      const body = (await (await generate(emu)).json()) as ErrorJson;
      assert.match(body.error.message, /limit: 3/);
    }));

  test('setQuota changes the limit while running (60 → 20 → 60)', () =>
    with_({ quota: { requestsPerMinute: 60 } }, async (emu) => {
      for (let i = 0; i < 20; i++) assert.equal((await generate(emu)).status, 200);
      emu.setQuota({ requestsPerMinute: 20 });
      assert.equal((await generate(emu)).status, 429);
      emu.setQuota({ requestsPerMinute: 60 });
      assert.equal((await generate(emu)).status, 200);
      emu.setQuota({ requestsPerMinute: undefined });
      for (let i = 0; i < 50; i++) assert.equal((await generate(emu)).status, 200);
      assert.equal(emu.counters.maxStartsPerWindow, 72);
      assert.throws(() => emu.setQuota({ requestsPerMinute: -1 }), /quota\.requestsPerMinute/);
    }));

  test('startsInsidePause counts arrivals before the announced RetryInfo deadline', () =>
    with_({ quota: { requestsPerMinute: 1 } }, async (emu, clock) => {
      await generate(emu);
      await generate(emu); // 429, deadline at +60 s
      assert.equal(emu.counters.startsInsidePause, 0);
      await clock.advance(30_000);
      await generate(emu); // too early
      assert.equal(emu.counters.startsInsidePause, 1);
      await clock.advance(30_000);
      assert.equal((await generate(emu)).status, 200);
      assert.equal(emu.counters.startsInsidePause, 1);
    }));

  test('over the concurrency cap answers 503 UNAVAILABLE "The model is overloaded"', () =>
    with_({ quota: { concurrency: 1 }, latency: { distribution: 'fixed', meanMs: 1000 } }, async (emu, clock) => {
      const first = generate(emu, 'slow');
      while (emu.counters.inFlight < 1) await flushMicrotasks();
      const res = await generate(emu, 'second');
      assert.equal(res.status, 503);
      const body = (await res.json()) as ErrorJson;
      assert.deepEqual(body.error, { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' });
      await clock.advance(1000);
      assert.equal((await first).status, 200);
      assert.equal(emu.counters.maxInFlight, 1);
      // The refused request left nothing in flight: the next one is admitted.
      while (emu.counters.inFlight > 0) await flushMicrotasks();
      const third = generate(emu, 'third');
      while (emu.counters.inFlight < 1) await flushMicrotasks();
      await clock.advance(1000);
      assert.equal((await third).status, 200);
    }));
});
