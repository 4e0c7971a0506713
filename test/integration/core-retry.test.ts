// The one retry policy, seen from the wire: which emulator faults are retried and which are final, the
// reinforced retry of text-only answers, maxAttempts, and RetryInfo delays honoured (scaled emulator time).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateImages } from '../../src/run.ts';
import type { FaultKind } from '../../src/emulator/index.ts';
import { QUOTA_IDS } from '../../src/emulator/index.ts';
import { costOfUsage } from '../../src/report/cost.ts';
import type { RunEvent } from '../../src/types.ts';
import { collect, seeded, spyFetch, withEmulator } from '../helpers/emu.ts';

const KEY = 'test-key-retry';
// random: () => 0 makes every backoff 0 ms, so retries cost no wall time; the decisions are what we test.
// A generous per-attempt timeout: a loaded machine must not turn a slow answer into an extra attempt.
// A model that does not think: small answers, so the scaled quota windows are hit as the tests intend.
const base = { apiKey: KEY, model: 'gemini-2.5-flash-image', random: () => 0, timeoutMs: 10_000 };
// With a scaled emulator a "minute" lasts 300 ms, but the client learns a per-minute rate from 429s on its own
// (real) minute and would then pace at a few requests per real minute. A known, huge rate turns learning off.
const scaledQuota = { requestsPerMinute: 1e6 };

describe('retries against the emulator', () => {
  const retryable: FaultKind[] = ['http500', 'http503', 'http504', 'reset', 'truncated', 'hang'];
  test(`each retryable fault is retried once and then succeeds: ${retryable.join(', ')}`, async () => {
    const scripted = retryable.map((f) => ({ match: `[${f}]`, fault: f, times: 1 }));
    await withEmulator({ faults: { scripted } }, async (emu) => {
      const jobs = retryable.map((f) => `a kite [${f}] over the sea`);
      const events: RunEvent[] = [];
      // Only the hang needs the timeout; 1.5 s leaves the other answers plenty of room on a busy machine.
      const results = await collect(generateImages(jobs, { ...base, baseUrl: emu.url, timeoutMs: 1500, onEvent: (e) => events.push(e) }));
      for (const r of results) {
        assert.equal(r.status, 'succeeded', `${r.job.prompt}: ${r.status === 'failed' ? `${r.reason} ${r.message}` : ''}`);
        assert.equal(r.attempts, 2, r.job.prompt);
        assert.equal(emu.requestsForPrompt(r.job.prompt), 2, r.job.prompt);
      }
      const reasons = new Map(events.flatMap((e) => (e.type === 'retried' ? [[e.index, e.reason] as const] : [])));
      assert.deepEqual(
        retryable.map((_, i) => reasons.get(i)),
        ['server', 'server', 'server', 'network', 'network', 'timeout'],
      );
      for (const f of retryable) assert.equal(emu.counters.faults[f], 1, f);
    });
  });

  test('a per-minute 429 is retried after the announced delay and succeeds', async () => {
    // rpm 2 over a 300 ms (scaled) minute; concurrency 1 keeps arrivals strictly after each answer.
    await withEmulator({ timeScale: 0.005, quota: { requestsPerMinute: 2 } }, async (emu) => {
      const results = await collect(generateImages(['q1 fern', 'q2 fern', 'q3 fern', 'q4 fern', 'q5 fern'], { ...base, ...scaledQuota, baseUrl: emu.url, concurrency: 1, random: seeded(3) }));
      assert.ok(results.every((r) => r.status === 'succeeded'));
      const c = emu.counters;
      assert.ok((c.quota429ByQuotaId[QUOTA_IDS.rpm] ?? 0) >= 1, 'the quota was hit');
      assert.equal(c.startsInsidePause, 0, 'no request arrived before the RetryInfo deadline');
    });
  });

  test('RetryInfo is honoured with several requests in flight: a pause as long as announced, nothing sent inside it', async () => {
    const spy = spyFetch();
    const pauses: Extract<RunEvent, { type: 'paused' }>[] = [];
    await withEmulator({ timeScale: 0.005, quota: { requestsPerMinute: 3 } }, async (emu) => {
      const jobs = Array.from({ length: 10 }, (_, i) => `fern ${i}`);
      const onEvent = (e: RunEvent) => e.type === 'paused' && pauses.push(e);
      const results = await collect(generateImages(jobs, { ...base, ...scaledQuota, baseUrl: emu.url, concurrency: 4, fetch: spy.fetch, random: seeded(5), onEvent }));
      assert.ok(results.every((r) => r.status === 'succeeded'));
      const gen = spy.sent.filter((s) => s.url.includes(':generateContent'));
      const refusals = gen.filter((s) => s.status === 429);
      assert.ok(refusals.length >= 1, 'the quota was hit');
      assert.ok(pauses.length >= 1, 'the client paused');
      for (const r of refusals) {
        const delay = retryDelayMs(r.errorBody);
        assert.ok(delay !== undefined && delay > 0, 'the 429 carries RetryInfo');
        // The client learns of the 429 after its headers arrived, so its pause ends no earlier than this.
        const deadline = r.answeredWall! + delay;
        assert.ok(
          pauses.some((p) => p.untilMs >= deadline - 2),
          `a pause covers the announced deadline (${pauses.map((p) => p.untilMs - deadline).join(', ')} ms)`,
        );
      }
      // Wall-clock ms on both sides: 1 ms of slack for rounding; a client ignoring the pause sends within a few ms.
      for (const p of pauses) {
        const inside = gen.filter((s) => s.sentWall > p.at && s.sentWall < p.untilMs - 1);
        assert.deepEqual(inside.map((s) => p.untilMs - s.sentWall), [], 'requests sent inside a pause (ms before its end)');
      }
      assert.equal(gen.length, 10 + refusals.length, 'every refusal was retried once it was allowed');
    });
  });

  test('terminal answers are not retried: 400, IMAGE_SAFETY, blocked prompt', async () => {
    const terminal: [FaultKind, string][] = [
      ['http400', 'invalid_request'],
      ['imageSafety', 'blocked'],
      ['promptBlock', 'blocked'],
    ];
    const scripted = terminal.map(([f]) => ({ match: `[${f}]`, fault: f, times: 99 }));
    await withEmulator({ faults: { scripted } }, async (emu) => {
      const results = await collect(generateImages(terminal.map(([f]) => `a boat [${f}]`), { ...base, baseUrl: emu.url }));
      for (const [f, reason] of terminal) {
        const r = results.find((x) => x.job.prompt === `a boat [${f}]`);
        assert.ok(r?.status === 'failed', f);
        assert.equal(r.reason, reason, f);
        assert.equal(r.attempts, 1, f);
        assert.equal(emu.requestsForPrompt(r.job.prompt), 1, f);
      }
    });
  });

  test('a text-only answer is retried reinforced; text-only every time ends as no_image after 3 attempts', async () => {
    const scripted = [
      { match: 'once', fault: 'textOnly' as const, times: 1 },
      { match: 'always', fault: 'textOnly' as const, times: 99 },
    ];
    await withEmulator({ faults: { scripted } }, async (emu) => {
      const results = await collect(generateImages(['a cat once', 'a cat always'], { ...base, baseUrl: emu.url }));
      const once = results.find((r) => r.job.prompt === 'a cat once');
      const always = results.find((r) => r.job.prompt === 'a cat always');
      assert.ok(once?.status === 'succeeded');
      assert.equal(once.attempts, 2);
      // The text-only answer was billed too: the job's cost is more than its image's.
      assert.ok(once.costUsd! > costOfUsage('gemini-2.5-flash-image', once.usage, 'interactive', 1)!, `cost ${once.costUsd}`);
      assert.ok(always?.status === 'failed');
      assert.equal(always.reason, 'no_image');
      assert.equal(always.attempts, 3, 'first attempt + 2 no-image retries');
      assert.match(always.message, /describe it instead/, "the model's text is the message");
    });
  });

  test('maxAttempts bounds the attempts of a job that keeps failing, and the others are unaffected', async () => {
    await withEmulator({ faults: { scripted: [{ match: 'doomed', fault: 'http500', times: 99 }] } }, async (emu) => {
      const results = await collect(generateImages(['doomed ship', 'fine ship'], { ...base, baseUrl: emu.url, maxAttempts: 3 }));
      const doomed = results.find((r) => r.job.prompt === 'doomed ship');
      assert.ok(doomed?.status === 'failed');
      assert.equal(doomed.reason, 'server');
      assert.equal(doomed.httpStatus, 500);
      assert.equal(doomed.attempts, 3);
      assert.equal(emu.requestsForPrompt('doomed ship'), 3);
      assert.equal(results.find((r) => r.job.prompt === 'fine ship')?.status, 'succeeded');
    });
  });

  test('an outage window is ridden out with backoff', async () => {
    // Every request in the emulator's first 1.5 s gets 503; backoff (500 ms, 1 s, 2 s) outlasts it. Real time, and long
    // enough that a loaded machine's first request still lands inside the window (at 100 ms it sometimes did not).
    await withEmulator({ timeScale: 1, faults: { outage: { startMs: 0, durationMs: 1500, status: 503 } } }, async (emu) => {
      // No preflight: its models.get would meet the outage first and wait it out, so the generates would never see it.
      const results = await collect(generateImages(['o1 owl', 'o2 owl', 'o3 owl'], { ...base, baseUrl: emu.url, random: () => 0.5, maxAttempts: 8, preflight: false }));
      assert.ok(results.every((r) => r.status === 'succeeded'), JSON.stringify(results.map((r) => r.status === 'failed' && r.message)));
      assert.ok((emu.counters.faults.outage ?? 0) >= 1, 'the outage was hit');
    });
  });
});

interface RetryInfoDetail {
  '@type'?: string;
  retryDelay?: string;
}

/** RetryInfo.retryDelay ("0.28s") of a recorded error body, in ms. */
function retryDelayMs(body: unknown): number | undefined {
  const details = (body as { error?: { details?: RetryInfoDetail[] } })?.error?.details ?? [];
  const d = details.find((x) => x['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  return d === undefined ? undefined : Number.parseFloat(d) * 1000;
}
