// Looking at and tidying batches (status, list, cleanup), how waiting polls (backoff, announced delays,
// transient and fatal errors), and the stream/batch decision.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { batchStatus, chooseMode, listBatches, parseDuration, readState, reasonForGrpcCode, submitBatch, waitForBatch } from '../../src/batch/index.ts';
import type { BatchEvent } from '../../src/batch/index.ts';
import { AuthError, ApiError, OptionError } from '../../src/errors.ts';
import { GeminiClient } from '../../src/gemini/client.ts';
import { createBatch } from '../../src/gemini/batches.ts';
import { listFiles } from '../../src/gemini/files.ts';
import { buildRequest } from '../../src/gemini/request.ts';
import { abortableSleep } from '../../src/internal/clock.ts';
import type { Clock } from '../../src/internal/clock.ts';
import { heldClock, jobs, setup } from './batch-helpers.ts';
import { DEFAULT_MODEL } from '../../src/models/index.ts';

const H = 3_600_000;

describe('status, list, cleanup', () => {
  test('status: state, counts, age and time left; settled batches keep their last state', async () => {
    const held = heldClock();
    const env = await setup({ clock: held.clock });
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(25), { ...env.client, out: dir, deadlineMs: 24 * H });
      const [before] = await batchStatus(dir, env.client);
      assert.equal(before!.state, 'BATCH_STATE_PENDING');
      assert.equal(before!.phase, 'live');
      assert.deepEqual(before!.counts, { total: 25, pending: 25, succeeded: 0, failed: 0 });
      assert.ok(before!.ageMs >= 0 && before!.ageMs < 60_000);
      assert.ok(before!.expiresInMs! > 48 * H - 60_000 && before!.expiresInMs! <= 48 * H);
      // Deadline 24 h with the default margin (1 h): streaming would take over after about 23 h.
      assert.ok(Math.abs(before!.streamInMs! - 23 * H) < 60_000, String(before!.streamInMs));

      held.release();
      await waitForBatch(dir, { ...env.client, pollInitialMs: 20 });
      const [after] = await batchStatus(dir, env.client);
      assert.equal(after!.phase, 'settled');
      assert.equal(after!.state, 'BATCH_STATE_SUCCEEDED');
      assert.deepEqual(after!.counts, { total: 25, pending: 0, succeeded: 25, failed: 0 });
      assert.equal(after!.expiresInMs, undefined);
    } finally {
      await env.close();
    }
  });

  test('cleanup deletes the uploaded input and the batch job once the results are saved', async () => {
    const env = await setup();
    try {
      const dir = env.dir('out');
      const client = new GeminiClient(env.client);
      await submitBatch(jobs(30), { ...env.client, out: dir, inlineMaxRequests: 0 });
      const [record] = (await readState(dir)).batches;
      const remoteFiles = async () => {
        const names: string[] = [];
        for await (const f of listFiles(client)) names.push(f.name);
        return names;
      };
      assert.deepEqual(await remoteFiles(), [record!.inputFile]);
      const events: BatchEvent[] = [];
      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 5, cleanup: true, onBatchEvent: (e) => events.push(e) });
      assert.equal(summary.succeeded, 30);
      assert.deepEqual(await remoteFiles(), []);
      assert.deepEqual(await listBatches(env.client), []);
      const cleanup = events.find((e) => e.type === 'batch_cleanup');
      // The results file (files/batch-<42 chars>) cannot be deleted through files.delete: Google refuses ids over 40.
      assert.deepEqual(cleanup?.type === 'batch_cleanup' && cleanup.deleted, [record!.inputFile, record!.name]);
      assert.equal((await readState(dir)).batches[0]!.cleanedUp, true);
      // Status of a cleaned-up batch does not ask the server (it would answer 404).
      const [entry] = await batchStatus(dir, { ...env.client, refreshSettled: true });
      assert.equal(entry!.state, 'BATCH_STATE_SUCCEEDED');
      assert.equal(entry!.error, undefined);
    } finally {
      await env.close();
    }
  });

  test('list shows every batch of the key, ours marked', async () => {
    const env = await setup();
    try {
      await submitBatch(jobs(5), { ...env.client, out: env.dir('out') });
      const client = new GeminiClient(env.client);
      const request = buildRequest({ key: 'x', index: 0, prompt: 'someone else' });
      await createBatch(client, 'gemini-2.5-flash-image', { requests: [{ request }] }, { displayName: 'another-tool' });
      const list = await listBatches(env.client);
      assert.deepEqual(
        list.map((b) => [b.ours, b.model, b.counts.total]).sort(),
        [
          [false, 'gemini-2.5-flash-image', 1],
          [true, DEFAULT_MODEL, 5],
        ],
      );
    } finally {
      await env.close();
    }
  });
});

describe('polling', () => {
  /** Records each requested delay without waiting it; `onSleep` may move the emulator's clock. */
  const recordingClock = (sleeps: number[], onSleep: () => void): Clock => ({
    now: () => Date.now(),
    sleep: (ms, signal) => {
      sleeps.push(ms);
      onSleep();
      return abortableSleep(1, signal);
    },
  });

  test('backs off ×1.5 up to the cap, waits a 429s announced delay, and rides out 5xx', async () => {
    // The emulator's batch clock stands still until the client has slept six times: the poll count is exact.
    const held = heldClock();
    const env = await setup({ clock: held.clock });
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(10), { ...env.client, out: dir });
      let gets = 0;
      const flaky: typeof fetch = async (input, init) => {
        if (/\/batches\/[a-z0-9]+$/.test(new URL(String(input)).pathname) && (init?.method ?? 'GET') === 'GET') {
          gets++;
          if (gets <= 2) return Response.json({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }, { status: 503 });
          if (gets === 3) {
            const details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.3s' }];
            return Response.json({ error: { code: 429, message: 'Quota exceeded.', status: 'RESOURCE_EXHAUSTED', details } }, { status: 429 });
          }
        }
        return fetch(input, init);
      };
      const sleeps: number[] = [];
      const events: BatchEvent[] = [];
      const summary = await waitForBatch(dir, {
        ...env.client,
        fetch: flaky,
        clock: recordingClock(sleeps, () => {
          if (sleeps.length === 6) held.release();
        }),
        pollInitialMs: 10,
        pollMaxMs: 40,
        random: () => 0, // no jitter: the planned waits exactly (the jitter has its own test below)
        onBatchEvent: (e) => events.push(e),
      });
      assert.equal(summary.succeeded, 10);
      assert.deepEqual(sleeps, [10, 15, 300, 33.75, 40, 40]);
      assert.deepEqual(
        events.filter((e) => e.type === 'batch_poll_error').map((e) => e.type === 'batch_poll_error' && e.retryInMs),
        [10, 15, 300],
      );
    } finally {
      await env.close();
    }
  });

  test('each wait carries the retry policy\'s jitter (up to 10% longer)', async () => {
    const env = await setup();
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(2), { ...env.client, out: dir });
      const down: typeof fetch = async () => Response.json({ error: { code: 500, message: 'Internal error.', status: 'INTERNAL' } }, { status: 500 });
      const sleeps: number[] = [];
      await assert.rejects(
        waitForBatch(dir, { ...env.client, fetch: down, clock: recordingClock(sleeps, () => {}), random: () => 1, pollInitialMs: 100, maxPollErrors: 2 }),
        (e: unknown) => e instanceof ApiError && e.httpStatus === 500,
      );
      assert.deepEqual(sleeps.map(Math.round), [110, 165]);
    } finally {
      await env.close();
    }
  });

  test('too many failures in a row, or a bad key, end the wait (the batch stays recorded)', async () => {
    const env = await setup({ apiKey: 'the-right-key' });
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(5), { ...env.client, apiKey: 'the-right-key', out: dir });
      const down: typeof fetch = async () => Response.json({ error: { code: 500, message: 'Internal error.', status: 'INTERNAL' } }, { status: 500 });
      await assert.rejects(
        waitForBatch(dir, { ...env.client, apiKey: 'the-right-key', fetch: down, pollInitialMs: 1, maxPollErrors: 2 }),
        (e: unknown) => e instanceof ApiError && e.httpStatus === 500,
      );
      await assert.rejects(waitForBatch(dir, { ...env.client, apiKey: 'a-wrong-key', pollInitialMs: 1 }), AuthError);
      assert.equal((await readState(dir)).batches[0]!.phase, 'live');
      const summary = await waitForBatch(dir, { ...env.client, apiKey: 'the-right-key', pollInitialMs: 5 });
      assert.equal(summary.succeeded, 5);
    } finally {
      await env.close();
    }
  });
});

describe('stream or batch', () => {
  test('auto picks batch only with many jobs and a deadline the Batch API can meet', () => {
    assert.equal(chooseMode(10_000).mode, 'stream', 'no deadline given: results are wanted now');
    assert.equal(chooseMode(10_000, { deadlineMs: 24 * H }).mode, 'batch');
    assert.equal(chooseMode(499, { deadlineMs: 48 * H }).mode, 'stream');
    assert.equal(chooseMode(500, { deadlineMs: 48 * H }).mode, 'batch');
    assert.equal(chooseMode(10_000, { deadlineMs: 2 * H }).mode, 'stream');
    assert.equal(chooseMode(10_000, { deadlineMs: 2 * H, minBatchDeadlineMs: H }).mode, 'batch');
    assert.equal(chooseMode(20, { batchThreshold: 10, deadlineMs: 24 * H }).mode, 'batch');
    assert.equal(chooseMode(3, { mode: 'batch' }).mode, 'batch');
    assert.equal(chooseMode(1e6, { mode: 'stream', deadlineMs: 48 * H }).mode, 'stream');
    assert.match(chooseMode(10_000).reason, /deadline/);
    assert.throws(() => chooseMode(1, { mode: 'later' as 'auto' }), OptionError);
    assert.throws(() => chooseMode(1, { batchThreshold: 0 }), OptionError);
  });

  test('per-line gRPC codes map to the reasons streaming mode gives the same failures', () => {
    const table = [[8, 'quota'], [13, 'server'], [14, 'server'], [3, 'invalid_request'], [4, 'timeout'], [5, 'server'], [undefined, 'server']] as const;
    for (const [code, reason] of table) assert.equal(reasonForGrpcCode(code), reason, String(code));
  });

  test('deadline durations', () => {
    assert.equal(parseDuration('24h'), 24 * H);
    assert.equal(parseDuration('1h30m'), 1.5 * H);
    assert.equal(parseDuration('2d'), 48 * H);
    assert.equal(parseDuration('45s'), 45_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('90'), 90_000);
    for (const bad of ['', 'h', '24x', '1h 30m', '-1h', '1h30']) assert.throws(() => parseDuration(bad), OptionError, bad);
  });
});
