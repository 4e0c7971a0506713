// A process that dies while submitting, waiting or fetching loses nothing and duplicates nothing: the folder's
// batch-state.json and manifest say what is left, and the next call finishes it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { collectBatch, readState, submitBatch, waitForBatch } from '../../src/batch/index.ts';
import type { BatchEvent } from '../../src/batch/index.ts';
import { recoverCreating } from '../../src/batch/remote.ts';
import { GeminiClient } from '../../src/gemini/client.ts';
import { listFiles } from '../../src/gemini/files.ts';
import { entriesByKey, heldClock, images, jobs, setup } from './batch-helpers.ts';

const isAbort = (e: unknown) => e instanceof Error && (e.name === 'AbortError' || /abort/i.test(e.message));

describe('resume', () => {
  test('the batch is recorded before any wait; a wait killed midway is picked up by the next one', async () => {
    const held = heldClock();
    const env = await setup({ clock: held.clock });
    try {
      const dir = env.dir('out');
      const input = jobs(40);
      const r = await submitBatch(input, { ...env.client, out: dir });
      const state = await readState(dir);
      assert.equal(state.batches.length, 1);
      assert.equal(state.batches[0]!.name, r.batches[0]!.name);
      assert.equal(state.batches[0]!.phase, 'live');
      assert.equal(state.batches[0]!.state, 'BATCH_STATE_PENDING');
      assert.equal(state.baseUrl, env.emu.url);

      const ctrl = new AbortController();
      const events: BatchEvent[] = [];
      await assert.rejects(
        waitForBatch(dir, { ...env.client, signal: ctrl.signal, pollInitialMs: 20, onBatchEvent: (e) => (events.push(e), ctrl.abort()) }),
        isAbort,
      );
      assert.equal(events[0]?.type, 'batch_state');
      assert.equal((await readState(dir)).batches[0]!.phase, 'live', 'still waiting: nothing collected');
      assert.equal((await entriesByKey(dir)).size, 0);

      // A new process: baseUrl comes from the folder, not the options.
      held.release();
      const summary = await waitForBatch(dir, { apiKey: env.client.apiKey, env: {}, pollInitialMs: 20 });
      assert.equal(summary.succeeded, 40);
      assert.equal((await entriesByKey(dir)).size, 40);
      assert.equal(env.emu.counters.batchesCreated, 1);
    } finally {
      await env.close();
    }
  });

  test('a fetch aborted halfway resumes: every key exactly once, the first part skipped', async () => {
    const env = await setup();
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(200), { ...env.client, out: dir });
      const ctrl = new AbortController();
      let saved = 0;
      await assert.rejects(
        collectBatch(dir, { ...env.client, signal: ctrl.signal, onEvent: (e) => e.type === 'succeeded' && ++saved === 50 && ctrl.abort() }),
        isAbort,
      );
      const partial = (await entriesByKey(dir)).size;
      assert.ok(partial >= 50 && partial < 200, `${partial} saved before the abort`);
      assert.equal((await readState(dir)).batches[0]!.phase, 'live');

      const r = await collectBatch(dir, env.client);
      assert.equal(r.skipped, partial);
      assert.equal(r.saved, 200 - partial);
      assert.equal((await entriesByKey(dir)).size, 200); // throws on a duplicate key
      assert.equal((await images(dir)).size, 200);
      assert.equal((await readState(dir)).batches[0]!.phase, 'settled');
    } finally {
      await env.close();
    }
  });

  test('a download cut mid-stream is retried by wait and finishes without duplicates', async () => {
    const env = await setup();
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(120), { ...env.client, out: dir });
      let cuts = 0;
      const cutting: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        if (!String(input).includes(':download') || cuts++ > 0 || !res.body) return res;
        let sent = 0;
        const reader = res.body.getReader();
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            const { done, value } = await reader.read();
            if (done) return c.close();
            sent += value.byteLength;
            if (sent > 300_000) return c.error(new TypeError('terminated: other side closed'));
            c.enqueue(value);
          },
        });
        return new Response(body, { status: res.status, headers: res.headers });
      };
      const events: BatchEvent[] = [];
      const summary = await waitForBatch(dir, { ...env.client, fetch: cutting, pollInitialMs: 5, onBatchEvent: (e) => events.push(e) });
      assert.equal(cuts, 2, 'the second download was not cut');
      assert.equal(events.filter((e) => e.type === 'batch_poll_error').length, 1);
      assert.equal(summary.succeeded, 120);
      assert.equal((await entriesByKey(dir)).size, 120);
      const collected = events.filter((e) => e.type === 'batch_collected');
      assert.equal(collected.length, 1);
      assert.ok(collected[0]!.type === 'batch_collected' && collected[0]!.skipped > 0, 'the part saved before the cut was skipped');
    } finally {
      await env.close();
    }
  });

  test('jobs waiting in a live batch are not submitted twice; jobs done are not submitted again', async () => {
    const held = heldClock();
    const env = await setup({ clock: held.clock });
    try {
      const dir = env.dir('out');
      const input = jobs(30);
      await submitBatch(input.slice(0, 20), { ...env.client, out: dir });
      const again = await submitBatch(input, { ...env.client, out: dir });
      assert.equal(again.skippedLive, 20);
      assert.equal(again.submitted, 10);
      assert.equal(env.emu.counters.batchRequests, 30);
      held.release();
      await waitForBatch(dir, { ...env.client, pollInitialMs: 20 });
      const third = await submitBatch(input, { ...env.client, out: dir });
      assert.deepEqual([third.skippedDone, third.skippedLive, third.submitted, third.batches.length], [30, 0, 0, 0]);
      assert.equal((await entriesByKey(dir)).size, 30);
    } finally {
      await env.close();
    }
  });

  test('retryFailed submits only the jobs whose last line failed', async () => {
    const env = await setup({ batch: { lineErrorEvery: 5 } });
    try {
      const dir = env.dir('out');
      const input = jobs(20);
      await submitBatch(input, { ...env.client, out: dir });
      assert.equal((await waitForBatch(dir, { ...env.client, pollInitialMs: 5 })).failed, 4);
      const retry = await submitBatch(input, { ...env.client, out: dir, retryFailed: true });
      assert.deepEqual([retry.submitted, retry.skippedDone], [4, 16]);
      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 5 });
      assert.deepEqual([summary.succeeded, summary.failed], [20, 0]);
    } finally {
      await env.close();
    }
  });

  test('a create whose answer was lost is adopted by displayName, not created twice', async () => {
    const env = await setup();
    try {
      const dir = env.dir('out');
      const lossy: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        if (String(input).includes(':batchGenerateContent')) throw new TypeError('fetch failed: socket hang up');
        return res;
      };
      await assert.rejects(submitBatch(jobs(25), { ...env.client, fetch: lossy, out: dir }), (e: unknown) => (e as { httpStatus?: number }).httpStatus === 0);
      const [record] = (await readState(dir)).batches;
      assert.equal(record?.phase, 'creating');
      assert.equal(record?.name, undefined);
      assert.equal(env.emu.counters.batchesCreated, 1);

      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 5 });
      assert.equal(summary.succeeded, 25);
      assert.equal(env.emu.counters.batchesCreated, 1);
      assert.equal((await readState(dir)).batches[0]!.phase, 'settled');
    } finally {
      await env.close();
    }
  });

  test('a create that never reached the server is dropped after a while, with its uploaded file', async () => {
    const env = await setup();
    try {
      const dir = env.dir('out');
      const refusing: typeof fetch = async (input, init) => {
        if (String(input).includes(':batchGenerateContent')) throw new TypeError('fetch failed: connect ECONNRESET');
        return fetch(input, init);
      };
      await assert.rejects(submitBatch(jobs(25), { ...env.client, fetch: refusing, out: dir }));
      const [record] = (await readState(dir)).batches;
      assert.equal(record?.phase, 'creating');
      const client = new GeminiClient(env.client);
      await recoverCreating(dir, client, { now: Date.now() + 60_000 });
      assert.equal((await readState(dir)).batches.length, 1, 'too early to give up');
      await recoverCreating(dir, client, { now: Date.now() + 11 * 60_000 });
      assert.equal((await readState(dir)).batches.length, 0);
      await assert.rejects(access(join(dir, record!.jobsFile)));
      const remote = [];
      for await (const f of listFiles(client)) remote.push(f.name);
      assert.deepEqual(remote, [], 'the uploaded input was deleted');

      const r = await submitBatch(jobs(25), { ...env.client, out: dir });
      assert.equal(r.submitted, 25);
      assert.equal(env.emu.counters.batchesCreated, 1);
    } finally {
      await env.close();
    }
  });
});
