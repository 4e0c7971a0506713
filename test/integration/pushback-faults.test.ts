// The emulator's seeded pushback faults through the whole stack: a billing 429 stops the run at once (after at most
// `concurrency` requests, state saved), a 429 without details is backed off and retried, a capacity 503 is transient.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runToDisk } from '../../src/run-disk.ts';
import { BillingError } from '../../src/errors.ts';
import type { RunEvent } from '../../src/types.ts';
import { manifestOf, tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'pushback-test-key-0123456789';
const jobs = (n: number) => Array.from({ length: n }, (_, i) => `job ${i} a paper crane`);

describe('pushback faults', () => {
  test('billing 429 on every request: BillingError after at most `concurrency` requests, what finished is saved', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await withEmulator({ faults: { billing429: 1 }, timeScale: 0.01, latency: { distribution: 'fixed', meanMs: 300 } }, async (emu) => {
        const err = await runToDisk(jobs(30), { apiKey: KEY, baseUrl: emu.url, out: dir, cacheDir: false, concurrency: 4 }).catch((e: unknown) => e);
        assert.ok(err instanceof BillingError, `got ${String(err)}`);
        assert.match(err.message, /^billing, not rate: Your prepayment credits are depleted.*https:\/\/ai\.studio\/projects.*no wait will fix this/);
        assert.ok((emu.counters.byRoute.generateContent ?? 0) <= 4, `sent ${emu.counters.byRoute.generateContent}`);
        assert.equal(emu.counters.faults.billing429, emu.counters.byRoute.generateContent);
      });
      assert.deepEqual(await manifestOf(dir), [], 'nothing was charged, nothing recorded as failed: a resume runs every job');
    } finally {
      await cleanup();
    }
  });

  test('billing 429 mid-run: jobs that finished before stay saved and are skipped on resume', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const faults = { scripted: [{ match: 'job 5 ', fault: 'billing429' as const, times: 99 }] };
      await withEmulator({ faults }, async (emu) => {
        const err = await runToDisk(jobs(12), { apiKey: KEY, baseUrl: emu.url, out: dir, cacheDir: false, concurrency: 1 }).catch((e: unknown) => e);
        assert.ok(err instanceof BillingError);
        assert.equal(emu.counters.byRoute.generateContent, 6, 'five images, then the billing answer, then nothing');
      });
      const saved = await manifestOf(dir);
      assert.deepEqual(saved.map((e) => [e.index, e.status]), [[0, 'succeeded'], [1, 'succeeded'], [2, 'succeeded'], [3, 'succeeded'], [4, 'succeeded']]);
    } finally {
      await cleanup();
    }
  });

  test('a 429 without details and a capacity 503 are retried with backoff and the run completes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const faults = {
        scripted: [
          { match: 'job 1 ', fault: 'bare429' as const, times: 2 },
          { match: 'job 2 ', fault: 'capacity503' as const, times: 2 },
        ],
      };
      await withEmulator({ faults }, async (emu) => {
        const events: RunEvent[] = [];
        const summary = await runToDisk(jobs(4), {
          apiKey: KEY,
          baseUrl: emu.url,
          out: dir,
          cacheDir: false,
          random: () => 0.01,
          onEvent: (e) => events.push(e),
        });
        assert.equal(summary.succeeded, 4);
        assert.equal(emu.counters.faults.bare429, 2);
        assert.equal(emu.counters.faults.capacity503, 2);
        const retried = events.filter((e): e is Extract<RunEvent, { type: 'retried' }> => e.type === 'retried');
        assert.deepEqual(retried.map((e) => e.reason).sort(), ['quota', 'quota', 'server', 'server']);
        assert.ok(!events.some((e) => e.type === 'paused'), 'no server-announced pause: these carry no RetryInfo');
      });
    } finally {
      await cleanup();
    }
  });
  test('429s without details feed the adaptive limit: it comes down under a storm of them', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await withEmulator({ faults: { bare429: 0.6 }, timeScale: 0.01, latency: { distribution: 'fixed', meanMs: 200 } }, async (emu) => {
        const limits: number[] = [];
        await runToDisk(jobs(40), {
          apiKey: KEY,
          baseUrl: emu.url,
          out: dir,
          cacheDir: false,
          concurrency: 8,
          random: () => 0.001,
          onEvent: (e) => e.type === 'concurrency' && limits.push(e.limit),
        }).catch(() => undefined);
        assert.ok((emu.counters.faults.bare429 ?? 0) > 5);
        assert.ok(limits.some((l) => l < 8), `limits seen: ${limits.join(',')}`);
      });
    } finally {
      await cleanup();
    }
  });
});
