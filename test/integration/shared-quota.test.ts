// Several runs sharing one quota group through a real redis-server, against the emulator (whose quota is
// project-wide): separate CLI processes, a process that arrives during another's pause, Redis killed mid-run.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateImages } from '../../src/run.ts';
import { SharedQuotaUnavailableError } from '../../src/errors.ts';
import type { Result, RunEvent } from '../../src/types.ts';
import { QUOTA_IDS } from '../../src/emulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { collect, tempDir, withEmulator } from '../helpers/emu.ts';
import { redisSkip, startRedis } from '../helpers/redis.ts';
import type { TestRedis } from '../helpers/redis.ts';

let redis: TestRedis;
before(async () => {
  if (!redisSkip) redis = await startRedis();
});
after(() => redis?.stop());

const KEY = 'test-key-shared';
const prompts = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} lighthouse ${i}`);

test('three CLI processes sharing one group stay inside one project quota', { skip: redisSkip, timeout: 60_000 }, async () => {
  // 12 requests per (scaled) minute of 1.2 s; the runs say --rpm at 90 % of it, in requests per real minute.
  await withEmulator({ apiKey: KEY, timeScale: 0.02, quota: { requestsPerMinute: 12 } }, async (emu) => {
    const { dir, cleanup } = await tempDir('ib-shared-');
    try {
      const runs = ['a', 'b', 'c'].map(async (tag) => {
        await writeFile(join(dir, `${tag}.txt`), `${prompts(tag, 6).join('\n')}\n`);
        return runCli(['generate', `${tag}.txt`, '--out', `out-${tag}`, '--rpm', String((12 / 0.02) * 0.9), '--shared-quota', redis.url, '--no-cache', '--json'], {
          cwd: dir,
          env: { GEMINI_API_KEY: KEY, GEMINI_BASE_URL: emu.url },
          timeoutMs: 50_000,
        });
      });
      const results = await Promise.all(runs);
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const c = emu.counters;
      const q429 = c.quota429ByQuotaId[QUOTA_IDS.rpm] ?? 0;
      // Without sharing each process would send at the whole rate: about two thirds of the requests 429'd.
      assert.ok(q429 <= 1, `${q429} per-minute 429s for 18 requests`);
      assert.ok(c.maxStartsPerWindow <= 12 + q429, `at most the quota arrived in any window (${c.maxStartsPerWindow})`);
      for (const tag of ['a', 'b', 'c']) for (const p of prompts(tag, 6)) assert.ok(emu.requestsForPrompt(p) >= 1, p);
      assert.equal(c.byRoute.generateContent ?? c.requests, 18 + q429, 'every prompt sent once, plus its retry after a 429');
    } finally {
      await cleanup();
    }
  });
});

// The pause reaches the group when the 429's report reaches Redis: until then (one round trip, a few ms on a loaded
// machine) another process may still be granted a start. That race is allowed for, and no more.
const RACE_MS = 30;

test("a process that starts during another's pause waits for it: nothing is sent inside an announced pause", { skip: redisSkip, timeout: 30_000 }, async () => {
  // 2 per 1.2 s window: the first run's opening burst (its adaptive limit starts at 4) is sure to hit it.
  await withEmulator({ apiKey: KEY, timeScale: 0.02, quota: { requestsPerMinute: 2 } }, async (emu) => {
    const sent: number[] = [];
    const spy: typeof fetch = (input, init) => {
      if (String(input).includes(':generateContent')) sent.push(Date.now());
      return fetch(input, init);
    };
    const sharedQuota = { url: redis.url, group: `pause-${process.pid}` };
    const pauses: Extract<RunEvent, { type: 'paused' }>[] = [];
    let second: Promise<Result[]> | undefined;
    const onEvent = (e: RunEvent) => {
      if (e.type !== 'paused') return;
      pauses.push(e);
      // A second process arrives just after the first was told to wait: it must find the pause in Redis.
      second ??= new Promise((r) => setTimeout(r, RACE_MS)).then(() =>
        collect(generateImages(prompts('late', 3), { apiKey: KEY, baseUrl: emu.url, fetch: spy, sharedQuota, random: () => 0.5 })),
      );
    };
    const first = await collect(generateImages(prompts('early', 6), { apiKey: KEY, baseUrl: emu.url, fetch: spy, sharedQuota, random: () => 0.5, onEvent }));
    assert.ok(second, 'the first run was paused by a 429 with RetryInfo');
    const late = await second;
    assert.ok([...first, ...late].every((r) => r.status === 'succeeded'));
    assert.ok((emu.counters.quota429ByQuotaId[QUOTA_IDS.rpm] ?? 0) >= 1);
    // Sent by either process after the pause reached the group and before its end (1 ms of slack for rounding).
    const inside = pauses.flatMap((p) => sent.filter((t) => t > p.at + RACE_MS && t < p.untilMs - 1).map((t) => p.untilMs - t));
    assert.deepEqual(inside, [], `requests sent inside a pause (ms before its end) ${JSON.stringify({ pauses: pauses.map((p) => [p.at, p.untilMs]), sent })}`);
  });
});

test('Redis killed mid-run: nothing starts while it is away, nothing is lost or sent twice, the runs finish when it is back', { skip: redisSkip, timeout: 30_000 }, async () => {
  await withEmulator({ apiKey: KEY, latency: { distribution: 'fixed', meanMs: 20 } }, async (emu) => {
    const sends: number[] = [];
    const spy: typeof fetch = (input, init) => {
      sends.push(performance.now());
      return fetch(input, init);
    };
    const warnings: string[] = [];
    const options = {
      apiKey: KEY,
      baseUrl: emu.url,
      fetch: spy,
      requestsPerMinute: 600, // one start every 100 ms across both runs: about 2 s of work
      sharedQuota: { url: redis.url, group: `outage-${process.pid}` },
      onEvent: (e: RunEvent) => void (e.type === 'warning' && warnings.push(e.message)),
    };
    const runs = Promise.all([collect(generateImages(prompts('x', 10), options)), collect(generateImages(prompts('y', 10), options))]);
    await new Promise((r) => setTimeout(r, 600));
    await redis.kill();
    const killedAt = performance.now();
    await new Promise((r) => setTimeout(r, 800));
    const restartAt = performance.now();
    await redis.start();
    const results = (await runs).flat();
    assert.equal(results.length, 20);
    assert.ok(results.every((r) => r.status === 'succeeded'), 'nothing lost');
    for (const r of results) assert.equal(emu.requestsForPrompt(r.job.prompt), 1, `${r.job.prompt} sent once`);
    const during = sends.filter((t) => t > killedAt + 20 && t < restartAt);
    assert.deepEqual(during, [], 'no request was sent while Redis was away');
    assert.ok(sends.some((t) => t < killedAt) && sends.some((t) => t > restartAt), 'the runs were sending before and after');
    assert.ok(warnings.some((w) => /unreachable/.test(w)) && warnings.some((w) => /back/.test(w)), warnings.join('\n'));
  });
});

test('Redis away longer than the timeout stops the run with SharedQuotaUnavailableError after in-flight work is saved', { skip: redisSkip, timeout: 30_000 }, async () => {
  await withEmulator({ apiKey: KEY }, async (emu) => {
    const results: Result[] = [];
    const run = (async () => {
      const options = { apiKey: KEY, baseUrl: emu.url, requestsPerMinute: 600, sharedQuota: { url: redis.url, group: `timeout-${process.pid}`, timeoutMs: 300 } };
      for await (const r of generateImages(prompts('z', 30), options)) {
        results.push(r);
        if (results.length === 2) await redis.kill();
      }
    })();
    await assert.rejects(run, (e: unknown) => e instanceof SharedQuotaUnavailableError && /unreachable/.test(e.message));
    await redis.start();
    assert.ok(results.length >= 2 && results.length < 30);
    assert.ok(results.every((r) => r.status === 'succeeded'));
    assert.equal(emu.counters.byRoute.generateContent, results.length, 'every request sent was answered and handed over');
  });
});
