// Run-level failures end the run quickly, with typed errors, and leave the folder consistent:
// bad key, unknown model, per-day quota, a server wait over maxRetryDelayMs, the spend budget. The key never leaks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateImages } from '../../src/run.ts';
import { runToDisk } from '../../src/run-disk.ts';
import { AuthError, BudgetExceededError, ModelNotFoundError, QuotaExhaustedError } from '../../src/errors.ts';
import { QUOTA_IDS } from '../../src/emulator/index.ts';
import type { Result, RunEvent } from '../../src/types.ts';
import { filesUnder, manifestOf, tempDir, withEmulator } from '../helpers/emu.ts';

const GOOD_KEY = 'AIzaSyGOODkey-0123456789abcdefghijkl';
const BAD_KEY = 'AIzaSyBADkey-zyxwvutsrqponmlkjihgfed';
const jobs = (n: number) => Array.from({ length: n }, (_, i) => `job ${i} a paper crane`);

/** Consumes the iterable; returns what was yielded and what was thrown. */
async function drain(it: AsyncIterable<Result>): Promise<{ results: Result[]; error: unknown }> {
  const results: Result[] = [];
  try {
    for await (const r of it) results.push(r);
  } catch (error) {
    return { results, error };
  }
  return { results, error: undefined };
}

/** Everything a run wrote, as one string, to search for secrets. */
async function folderText(dir: string): Promise<string> {
  let all = '';
  for (const f of await filesUnder(dir)) if (!/\.(png|jpe?g)$/.test(f)) all += await readFile(join(dir, f), 'utf8');
  return all;
}

describe('run-level failures', () => {
  test('a bad key ends the run after at most `concurrency` requests, with AuthError and no key in it', async () => {
    await withEmulator({ apiKey: GOOD_KEY, timeScale: 0.01, latency: { distribution: 'fixed', meanMs: 500 } }, async (emu) => {
      const { results, error } = await drain(generateImages(jobs(40), { apiKey: BAD_KEY, baseUrl: emu.url, concurrency: 4 }));
      assert.ok(error instanceof AuthError, `got ${String(error)}`);
      assert.equal(error.httpStatus, 400);
      assert.equal(error.errorReason, 'API_KEY_INVALID');
      assert.equal(results.length, 0);
      assert.ok((emu.counters.byRoute.generateContent ?? 0) <= 4, `sent ${emu.counters.byRoute.generateContent}`);
      assert.ok(!error.message.includes(BAD_KEY) && !error.message.includes(GOOD_KEY));
      assert.ok(!String(error.stack).includes(BAD_KEY));
    });
  });

  test('an unknown model ends the run with ModelNotFoundError after at most `concurrency` requests', async () => {
    await withEmulator({}, async (emu) => {
      const { results, error } = await drain(generateImages(jobs(30), { apiKey: GOOD_KEY, baseUrl: emu.url, concurrency: 3, model: 'gemini-9-imaginary-image' }));
      assert.ok(error instanceof ModelNotFoundError, `got ${String(error)}`);
      assert.equal(error.model, 'gemini-9-imaginary-image');
      assert.equal(results.length, 0);
      assert.ok((emu.counters.byRoute.generateContent ?? 0) <= 3, `sent ${emu.counters.byRoute.generateContent}`);
    });
  });

  test('an exhausted daily quota stops the run with QuotaExhaustedError; what finished is kept', async () => {
    await withEmulator({ quota: { requestsPerDay: 3 } }, async (emu) => {
      const { results, error } = await drain(generateImages(jobs(20), { apiKey: GOOD_KEY, baseUrl: emu.url, concurrency: 2 }));
      assert.ok(error instanceof QuotaExhaustedError, `got ${String(error)}`);
      assert.equal(error.quotaId, QUOTA_IDS.rpd);
      assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 60_000, 'the reset is hours away');
      assert.equal(results.filter((r) => r.status === 'succeeded').length, 3, 'the three admitted requests were yielded');
      assert.ok((emu.counters.byRoute.generateContent ?? 0) <= 3 + 2, `sent ${emu.counters.byRoute.generateContent}`);
      assert.ok((emu.counters.quota429ByQuotaId[QUOTA_IDS.rpd] ?? 0) <= 2, 'no retry of a per-day 429');
    });
  });

  test('a per-minute wait longer than maxRetryDelayMs stops the run instead of stalling', async () => {
    // rpm 1 at real time: the second request is told to wait most of a minute.
    await withEmulator({ quota: { requestsPerMinute: 1 } }, async (emu) => {
      const { results, error } = await drain(generateImages(jobs(5), { apiKey: GOOD_KEY, baseUrl: emu.url, concurrency: 1, maxRetryDelayMs: 5000 }));
      assert.ok(error instanceof QuotaExhaustedError, `got ${String(error)}`);
      assert.equal(error.quotaId, QUOTA_IDS.rpm);
      assert.ok(error.retryAfterMs! > 5000);
      assert.equal(results.length, 1);
    });
  });

  test('maxCostUsd stops scheduling before the spend passes it: BudgetExceededError, summary saved', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await withEmulator({}, async (emu) => {
        // 2.5-flash-image costs $0.039 an image: $0.10 buys two, not three.
        const events: RunEvent[] = [];
        const err = await runToDisk(jobs(10), { apiKey: GOOD_KEY, baseUrl: emu.url, model: 'gemini-2.5-flash-image', out: dir, cacheDir: false, concurrency: 1, maxCostUsd: 0.1, onEvent: (e) => events.push(e) }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof BudgetExceededError, `got ${String(err)}`);
        assert.ok(err.spentUsd <= 0.1 && err.spentUsd > 0.07, `spent ${err.spentUsd}`);
        assert.equal(emu.counters.byRoute.generateContent, 2);
        assert.equal((await manifestOf(dir)).length, 2);
        const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as { succeeded: number; stoppedBy?: string; costUsd: number };
        assert.equal(summary.succeeded, 2);
        assert.match(summary.stoppedBy ?? '', /budget/);
        assert.ok(summary.costUsd <= 0.1);
        assert.equal(events.at(-1)?.type, 'done', 'the done event still comes');
      });
    } finally {
      await cleanup();
    }
  });

  test('maxCostUsd counts requests in flight: with room for two images, concurrency 4 sends two', async () => {
    await withEmulator({ timeScale: 0.01, latency: { distribution: 'fixed', meanMs: 1000 } }, async (emu) => {
      const { results, error } = await drain(generateImages(jobs(10), { apiKey: GOOD_KEY, baseUrl: emu.url, model: 'gemini-2.5-flash-image', concurrency: 4, maxCostUsd: 0.1 }));
      assert.ok(error instanceof BudgetExceededError, `got ${String(error)}`);
      assert.equal(emu.counters.byRoute.generateContent, 2);
      assert.equal(results.length, 2);
      assert.ok(results.reduce((n, r) => n + (r.costUsd ?? 0), 0) <= 0.1);
    });
  });

  test('the API key never reaches the manifest, summary, gallery or events, even with failures and a bad key', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const faults = {
        scripted: [
          { match: 'blocked', fault: 'promptBlock' as const, times: 9 },
          { match: 'bad', fault: 'http400' as const, times: 9 },
          { match: 'flaky', fault: 'http500' as const, times: 1 },
        ],
      };
      await withEmulator({ apiKey: GOOD_KEY, faults }, async (emu) => {
        const events: RunEvent[] = [];
        const summary = await runToDisk(['a blocked idea', 'a bad request', 'a flaky server', 'a fine day'], {
          apiKey: GOOD_KEY,
          baseUrl: emu.url,
          out: dir,
          cacheDir: false,
          random: () => 0,
          onEvent: (e) => events.push(e),
        });
        assert.equal(summary.succeeded, 2);
        assert.equal(summary.failed, 2);
        const err = await runToDisk(['another'], { apiKey: BAD_KEY, baseUrl: emu.url, out: dir, cacheDir: false }).catch((e: unknown) => e);
        assert.ok(err instanceof AuthError);
        const text = (await folderText(dir)) + JSON.stringify(events) + String((err as Error).message);
        assert.ok(text.includes('index.html') || (await filesUnder(dir)).includes('index.html'));
        assert.ok(!text.includes(GOOD_KEY), 'good key leaked');
        assert.ok(!text.includes(BAD_KEY), 'bad key leaked');
        assert.ok(!text.includes('AIzaSy'), 'a key prefix leaked');
      });
    } finally {
      await cleanup();
    }
  });
});
