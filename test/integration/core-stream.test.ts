// generateImages() against the emulator: the concurrency cap, streaming in completion order, isolation of
// failures, input order on request, cancellation by `break`, what the request asks for, and thought images.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateImages } from '../../src/run.ts';
import { runToDisk } from '../../src/run-disk.ts';
import { REINFORCE_INSTRUCTION } from '../../src/gemini/request.ts';
import { renderSize } from '../../src/emulator/index.ts';
import { join } from 'node:path';
import { ImageCache } from '../../src/storage/cache.ts';
import type { Result } from '../../src/types.ts';
import { collect, describeBody, eventually, imagesIn, pngSize, seeded, spyFetch, tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'test-key-stream';
const prompts = (n: number, tag = 'p') => Array.from({ length: n }, (_, i) => `${tag} ${i} a small red house`);

describe('generateImages against the emulator', () => {
  test('in-flight requests never exceed `concurrency`, adaptive or not', async () => {
    // The emulator's own concurrency limit equals ours: one request too many would come back 503.
    for (const adaptive of [true, false]) {
      await withEmulator({ timeScale: 0.01, latency: { distribution: 'uniform', meanMs: 1500, minMs: 500, maxMs: 2500 }, quota: { concurrency: 3 } }, async (emu) => {
        const results = await collect(generateImages(prompts(18), { apiKey: KEY, baseUrl: emu.url, concurrency: 3, adaptive, random: seeded(1) }));
        const c = emu.counters;
        assert.equal(results.length, 18);
        assert.ok(results.every((r) => r.status === 'succeeded'), 'all succeed');
        assert.ok(c.maxInFlight <= 3, `maxInFlight ${c.maxInFlight} > 3 (adaptive ${adaptive})`);
        assert.ok(c.maxInFlight >= 2, `the pool did run requests in parallel (max ${c.maxInFlight})`);
        assert.equal(c.byStatus['503'] ?? 0, 0, 'no request was refused for concurrency');
        assert.equal(c.byRoute.generateContent, 18, 'one request per job');
      });
    }
  });

  test('the first result arrives while the slowest job is still in flight', async () => {
    // "slow" hangs once: its first attempt ends only by the client's timeout, so every other job finishes first.
    await withEmulator({ faults: { scripted: [{ match: 'slow', fault: 'hang', times: 1 }] } }, async (emu) => {
      const jobs = ['slow tortoise', ...prompts(5)];
      const seen: { prompt: string; inFlightAtServer: number }[] = [];
      for await (const r of generateImages(jobs, { apiKey: KEY, baseUrl: emu.url, concurrency: 6, timeoutMs: 1500, random: () => 0 })) {
        seen.push({ prompt: r.job.prompt, inFlightAtServer: emu.counters.inFlight });
        assert.equal(r.status, 'succeeded', `${r.job.prompt}: ${r.status === 'failed' ? r.message : ''}`);
      }
      assert.equal(seen.length, 6);
      assert.notEqual(seen[0]!.prompt, 'slow tortoise', 'the first result is not the slow one');
      assert.ok(seen[0]!.inFlightAtServer >= 1, 'the slow request was still held by the server when the first result came');
      assert.equal(seen.at(-1)!.prompt, 'slow tortoise', 'the slow job finishes last');
      assert.equal(emu.requestsForPrompt('slow tortoise'), 2, 'the timed-out attempt was retried once');
    });
  });

  test('failing jobs do not stop the others, and each failure is a value with its reason', async () => {
    const faults = {
      scripted: [
        { match: 'blocked-prompt', fault: 'promptBlock' as const, times: 99 },
        { match: 'unsafe-image', fault: 'imageSafety' as const, times: 99 },
        { match: 'bad-request', fault: 'http400' as const, times: 99 },
      ],
    };
    await withEmulator({ faults }, async (emu) => {
      const jobs = ['blocked-prompt one', ...prompts(4, 'a'), 'unsafe-image two', ...prompts(4, 'b'), 'bad-request three'];
      const results = await collect(generateImages(jobs, { apiKey: KEY, baseUrl: emu.url, concurrency: 2, random: () => 0 }));
      const by = new Map(results.map((r) => [r.job.prompt, r]));
      assert.equal(results.length, jobs.length, 'every job ends in exactly one result');
      assert.equal(new Set(results.map((r) => r.job.key)).size, jobs.length);
      assert.equal(results.filter((r) => r.status === 'succeeded').length, 8);
      const fail = (p: string) => {
        const r = by.get(p);
        assert.ok(r && r.status === 'failed', `${p} failed`);
        return r;
      };
      assert.equal(fail('blocked-prompt one').reason, 'blocked');
      assert.equal(fail('blocked-prompt one').blockReason, 'PROHIBITED_CONTENT');
      assert.equal(fail('unsafe-image two').reason, 'blocked');
      assert.equal(fail('unsafe-image two').blockReason, 'IMAGE_SAFETY');
      assert.equal(fail('bad-request three').reason, 'invalid_request');
      assert.equal(fail('bad-request three').httpStatus, 400);
      assert.match(fail('bad-request three').message, /invalid argument/i);
    });
  });

  test('`ordered: true` yields in input order even when the first job is the slowest', async () => {
    await withEmulator(
      { timeScale: 0.01, latency: { distribution: 'uniform', meanMs: 1000, minMs: 0, maxMs: 2000 }, faults: { scripted: [{ match: 'first', fault: 'hang', times: 1 }] } },
      async (emu) => {
        const jobs = ['first of all', ...prompts(11)];
        const opts = { apiKey: KEY, baseUrl: emu.url, concurrency: 4, timeoutMs: 1200, random: () => 0 };
        const ordered = await collect(generateImages(jobs, { ...opts, ordered: true }));
        assert.deepEqual(
          ordered.map((r) => r.job.index),
          jobs.map((_, i) => i),
        );
        assert.ok(ordered.every((r) => r.status === 'succeeded'));
        // The same run unordered really completes out of order (so the check above can fail).
        emu.setFaults({ scripted: [{ match: 'first', fault: 'hang', times: 1 }] });
        const unordered = await collect(generateImages(jobs, { ...opts, ordered: false }));
        assert.notEqual(unordered[0]!.job.index, 0);
      },
    );
  });

  test('`ordered: true` keeps input order across cache hits and jobs skipped as done', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cache = await ImageCache.open(join(dir, 'cache'));
      await withEmulator({ timeScale: 0.01, latency: { distribution: 'uniform', meanMs: 1000, minMs: 500, maxMs: 1500 } }, async (emu) => {
        const opts = { apiKey: KEY, baseUrl: emu.url, concurrency: 3 };
        await collect(generateImages(['cached b lantern', 'cached d lantern'], { ...opts, cache }));
        const jobs = ['a', 'cached b', 'c', 'cached d', 'skipped e', 'f', 'g'].map((p) => `${p} lantern`);
        const got = await collect(generateImages(jobs, { ...opts, cache, ordered: true, skip: (j) => (j.prompt.startsWith('skipped') ? 'done' : undefined) }));
        assert.deepEqual(
          got.map((r) => `${r.job.index}:${r.status === 'succeeded' ? r.from : r.status}`),
          ['0:api', '1:cache', '2:api', '3:cache', '5:api', '6:api'],
        );
      });
    } finally {
      await cleanup();
    }
  });

  test('`ordered: true` still hands over every finished result when the run stops early', async () => {
    // Job 0 hangs until its timeout; the stop comes as its retry is scheduled, so it never finishes.
    await withEmulator({ faults: { scripted: [{ match: 'first', fault: 'hang', times: 1 }] } }, async (emu) => {
      const stop = new AbortController();
      const jobs = ['first lantern', 'second lantern', 'third lantern'];
      const got = await collect(
        generateImages(jobs, {
          apiKey: KEY,
          baseUrl: emu.url,
          concurrency: 3,
          timeoutMs: 1000,
          ordered: true,
          stopSignal: stop.signal,
          onEvent: (e) => e.type === 'retried' && stop.abort(),
        }),
      );
      assert.deepEqual(
        got.map((r) => r.job.index),
        [1, 2],
        'the two answered jobs are not lost behind the unfinished first one',
      );
      assert.equal(emu.requestsForPrompt('first lantern'), 1);
    });
  });

  test('breaking out of `for await` cancels in-flight requests at once', async () => {
    // Every "stuck" prompt hangs; the one quick prompt gives the loop a result to break on.
    await withEmulator({ faults: { scripted: [{ match: 'stuck', fault: 'hang', times: 1000 }] } }, async (emu) => {
      const jobs = ['stuck 1', 'stuck 2', 'quick one', 'stuck 3', 'stuck 4', 'stuck 5', 'stuck 6'];
      let got: Result | undefined;
      for await (const r of generateImages(jobs, { apiKey: KEY, baseUrl: emu.url, concurrency: 4, adaptive: false, timeoutMs: 60_000 })) {
        // By the time the quick one answers, the three stuck ones before it are held by the server.
        assert.ok(await eventually(() => emu.counters.inFlight >= 3), 'stuck requests are in flight');
        got = r;
        break;
      }
      assert.equal(got?.job.prompt, 'quick one');
      // The generator's return() waits for the pool to close: the server must see the sockets go promptly.
      assert.ok(await eventually(() => emu.counters.inFlight === 0, 2000), `in flight after break: ${emu.counters.inFlight}`);
      assert.ok((emu.counters.byStatus.aborted ?? 0) >= 3, 'the hung requests were abandoned by the client');
      const sent = emu.counters.byRoute.generateContent ?? 0;
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(emu.counters.byRoute.generateContent ?? 0, sent, 'nothing new starts after the break');
      assert.ok(sent <= 5, `no queued job started after the break (${sent} requests)`);
    });
  });

  test('aborting `signal` ends the iteration and cancels in-flight requests', async () => {
    await withEmulator({ faults: { scripted: [{ match: 'stuck', fault: 'hang', times: 1000 }] } }, async (emu) => {
      const ac = new AbortController();
      const it = generateImages(['stuck a', 'stuck b', 'stuck c'], { apiKey: KEY, baseUrl: emu.url, concurrency: 3, signal: ac.signal });
      const done = collect(it);
      assert.ok(await eventually(() => emu.counters.inFlight === 3));
      ac.abort();
      const results = await done;
      // A hard abort yields nothing more: the cut requests are not answers (a resume re-runs them).
      assert.deepEqual(results.map((r) => r.status), []);
      assert.ok(await eventually(() => emu.counters.inFlight === 0, 2000));
    });
  });

  test('requests ask for TEXT+IMAGE; only the retry after a text-only answer asks for IMAGE, reinforced', async () => {
    const spy = spyFetch();
    const faults = {
      scripted: [
        { match: 'wordy', fault: 'textOnly' as const, times: 1 },
        { match: 'flaky', fault: 'http500' as const, times: 1 },
      ],
    };
    await withEmulator({ faults }, async (emu) => {
      const jobs = ['a wordy cat', 'a flaky dog', 'a calm bird'];
      const results = await collect(generateImages(jobs, { apiKey: KEY, baseUrl: emu.url, fetch: spy.fetch, random: () => 0 }));
      assert.ok(results.every((r) => r.status === 'succeeded'));
      const gen = spy.sent.filter((s) => s.url.includes(':generateContent')).map((s) => describeBody(s.body));
      assert.equal(gen.length, 5);
      const reinforced = gen.filter((g) => g.prompt.includes(REINFORCE_INSTRUCTION));
      assert.equal(reinforced.length, 1, 'exactly one reinforced request');
      assert.deepEqual(reinforced[0]!.modalities, ['IMAGE']);
      assert.ok(reinforced[0]!.prompt.startsWith('a wordy cat'));
      for (const g of gen.filter((x) => !x.prompt.includes(REINFORCE_INSTRUCTION))) assert.deepEqual(g.modalities, ['TEXT', 'IMAGE'], g.prompt);
      // The 500 retry is not a no-image retry: it asks exactly as the first attempt did.
      assert.equal(gen.filter((g) => g.prompt === 'a flaky dog').length, 2);
      // What the server saw: the image-only retry answers with no text part at all.
      const wordy = results.find((r) => r.job.prompt === 'a wordy cat');
      assert.ok(wordy?.status === 'succeeded');
      assert.equal(wordy.attempts, 2);
      assert.deepEqual(wordy.text, []);
      // The key travels only in the header.
      for (const s of spy.sent) {
        assert.equal(s.headers['x-goog-api-key'], KEY);
        assert.ok(!s.url.includes(KEY));
      }
    });
  });

  test('thought images are never returned, only the final image', async () => {
    await withEmulator({}, async (emu) => {
      for (const model of ['gemini-3.1-flash-image', 'gemini-3-pro-image']) {
        const results = await collect(generateImages(['a lighthouse at dusk', 'a bowl of ramen'], { apiKey: KEY, baseUrl: emu.url, model }));
        for (const r of results) {
          assert.ok(r.status === 'succeeded', model);
          assert.equal(r.images.length, 1, `${model}: one image (the thought sketch is dropped)`);
          const img = r.images[0]!;
          if (model.includes('pro')) {
            // The pro model's final image is a JPEG; its thought sketch is a PNG.
            assert.equal(img.mimeType, 'image/jpeg');
          } else {
            // The thought sketch is half size: the image we keep is the full-size one.
            assert.equal(img.mimeType, 'image/png');
            assert.deepEqual(pngSize(img.data), renderSize(undefined, undefined));
          }
          assert.ok(r.text.every((t) => !/Composing the scene/.test(t)), 'thought text is not returned either');
        }
      }
      // On disk: one file per job, no sketch beside it.
      const { dir, cleanup } = await tempDir();
      try {
        await runToDisk(['a lighthouse at dusk', 'a bowl of ramen'], { apiKey: KEY, baseUrl: emu.url, model: 'gemini-3.1-flash-image', out: dir, cacheDir: false });
        assert.deepEqual(await imagesIn(dir), ['0000-a-lighthouse-at-dusk.png', '0001-a-bowl-of-ramen.png']);
      } finally {
        await cleanup();
      }
    });
  });
});
