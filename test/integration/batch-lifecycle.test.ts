// How batches end (expired, failed, cancelled, past the deadline) and what the folder then holds; inline and
// split submissions; one batch per model.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { cancelBatch, readState, submitBatch } from '../../src/batch/index.ts';
import { collectBatch, waitForBatch } from '../../src/run-batch.ts';
import type { BatchEvent } from '../../src/batch/index.ts';
import { entriesByKey, heldClock, images, jobs, setup } from './batch-helpers.ts';
import { DEFAULT_MODEL } from '../../src/models/index.ts';

describe('jobs a batch never answered', () => {
  test('expired: failed results with reason batch_expired, then finished by streaming on request', async () => {
    const env = await setup({ batch: { expire: true } });
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(30), { ...env.client, out: dir });
      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 5 });
      assert.equal(summary.failed, 30);
      assert.deepEqual(summary.byReason, { batch_expired: 30 });
      const entries = [...(await entriesByKey(dir)).values()];
      assert.ok(entries.every((e) => e.reason === 'batch_expired' && /EXPIRED/.test(e.message ?? '') && e.attempts === 0));
      assert.equal(env.emu.counters.byRoute.generateContent, undefined);

      const r = await collectBatch(dir, { ...env.client, finishWithStream: true });
      assert.equal(r.streamed, 30);
      assert.equal(r.summary.succeeded, 30);
      assert.equal((await images(dir)).size, 30);
    } finally {
      await env.close();
    }
  });

  test('expired with finishWithStream: no failure is recorded, the folder ends complete', async () => {
    const env = await setup({ batch: { expire: true } });
    const stream = await setup();
    try {
      const dir = env.dir('out');
      const input = jobs(30);
      await submitBatch(input, { ...env.client, out: dir });
      const events: BatchEvent[] = [];
      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 5, finishWithStream: true, onBatchEvent: (e) => events.push(e) });
      assert.equal(summary.succeeded, 30);
      const byKey = await entriesByKey(dir); // one line per key: nothing failed first
      assert.ok([...byKey.values()].every((e) => e.status === 'succeeded' && e.from === 'api'));
      assert.ok(events.some((e) => e.type === 'batch_streaming' && e.jobs === 30));
      // Same files as a plain streaming run on another emulator with the same seed.
      const { runToDisk } = await import('../../src/run-disk.ts');
      await runToDisk(input, { ...stream.client, out: stream.dir('s'), cacheDir: false, gallery: false });
      assert.deepEqual(await images(dir), await images(stream.dir('s')));
    } finally {
      await env.close();
      await stream.close();
    }
  });

  test('failed job: batch_failed with the operation error', async () => {
    const env = await setup({ batch: { failJob: true } });
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(12), { ...env.client, out: dir });
      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 5 });
      assert.deepEqual(summary.byReason, { batch_failed: 12 });
      const [e] = [...(await entriesByKey(dir)).values()];
      assert.match(e!.message!, /FAILED.*internal error/);
    } finally {
      await env.close();
    }
  });

  test('cancel: the batch is cancelled remotely; the next fetch records its jobs as batch_failed', async () => {
    const env = await setup({ clock: heldClock().clock });
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(15), { ...env.client, out: dir });
      const entries = await cancelBatch(dir, env.client);
      assert.equal(entries.length, 1);
      assert.equal(entries[0]!.state, 'BATCH_STATE_CANCELLED');
      const r = await collectBatch(dir, env.client);
      assert.equal(r.saved, 15);
      assert.deepEqual(r.summary.byReason, { batch_failed: 15 });
      assert.match([...(await entriesByKey(dir)).values()][0]!.message!, /CANCELLED/);
      assert.deepEqual(await cancelBatch(dir, env.client), [], 'nothing live left to cancel');
    } finally {
      await env.close();
    }
  });

  test('still pending near the deadline: cancelled and finished by streaming before it', async () => {
    const env = await setup({ clock: heldClock().clock }); // pending until the test ends
    try {
      const dir = env.dir('out');
      await submitBatch(jobs(20), { ...env.client, out: dir, deadlineMs: 800 });
      const events: BatchEvent[] = [];
      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 20, finishWithStream: true, streamMarginMs: 400, onBatchEvent: (e) => events.push(e) });
      const submittedAt = Date.parse((await readState(dir)).batches[0]!.submittedAt);
      assert.ok(Date.now() - submittedAt >= 400, 'it waited for the batch until deadline - margin');
      assert.equal(summary.succeeded, 20);
      assert.deepEqual(
        events.filter((e) => ['batch_deadline', 'batch_collected', 'batch_streaming'].includes(e.type)).map((e) => e.type),
        ['batch_deadline', 'batch_collected', 'batch_streaming'],
      );
      const [record] = (await readState(dir)).batches;
      assert.equal(record!.state, 'BATCH_STATE_CANCELLED');
      assert.equal(record!.phase, 'settled');
      assert.equal(env.emu.counters.byRoute.batchesCancel, 1);
      assert.equal(env.emu.counters.byRoute.generateContent, 20);
    } finally {
      await env.close();
    }
  });
});

describe('the same jobs as streaming mode', () => {
  test('a reference image given by path only: same key as streaming, sent with its real MIME type', async () => {
    const env = await setup();
    try {
      await mkdir(env.dir(''), { recursive: true });
      const ref = env.dir('ref.jpg');
      await writeFile(ref, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]));
      const input = [{ prompt: 'the same scene at night', images: [{ path: ref }] }];
      const uploaded: string[] = [];
      const spy: typeof fetch = async (url, init) => {
        if (String(url).includes('upload_id=') && init?.body instanceof Uint8Array) uploaded.push(Buffer.from(init.body).toString('utf8'));
        return fetch(url, init);
      };
      await submitBatch(input, { ...env.client, fetch: spy, out: env.dir('batch'), inlineMaxRequests: 0 });
      await waitForBatch(env.dir('batch'), { ...env.client, pollInitialMs: 5 });
      const { runToDisk } = await import('../../src/run-disk.ts');
      await runToDisk(input, { ...env.client, out: env.dir('stream'), cacheDir: false, gallery: false });
      const batchKeys = [...(await entriesByKey(env.dir('batch'))).keys()];
      assert.deepEqual(batchKeys, [...(await entriesByKey(env.dir('stream'))).keys()]);
      const line = JSON.parse(uploaded.join('').trim()) as { key: string; request: { contents: { parts: { inlineData?: { mimeType: string; data: string } }[] }[] } };
      assert.equal(line.key, batchKeys[0]);
      const part = line.request.contents[0]!.parts[1]!.inlineData!;
      assert.equal(part.mimeType, 'image/jpeg');
      assert.equal(part.data, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]).toString('base64'));
    } finally {
      await env.close();
    }
  });
});

describe('how jobs are split into batches', () => {
  test('a small batch goes inline (no upload); per-line errors come back by metadata key', async () => {
    const env = await setup({ batch: { lineErrorEvery: 4 } });
    try {
      const dir = env.dir('out');
      const r = await submitBatch(jobs(10), { ...env.client, out: dir });
      assert.equal(r.batches[0]!.input, 'inline');
      assert.equal(env.emu.counters.uploads, 0);
      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 5 });
      assert.equal(summary.succeeded, 8);
      assert.deepEqual(summary.byReason, { server: 2 });
      const failed = [...(await entriesByKey(dir)).values()].filter((e) => e.status === 'failed').map((e) => e.index);
      assert.deepEqual(failed.sort(), [3, 7]);
    } finally {
      await env.close();
    }
  });

  test('past the count or size limit, several batch jobs; one per model', async () => {
    const env = await setup();
    try {
      const dir = env.dir('out');
      const pro = jobs(10, 'a pro portrait').map((j) => ({ ...(j as object), model: 'gemini-3-pro-image' })) as ReturnType<typeof jobs>;
      const r = await submitBatch([...jobs(100), ...pro], { ...env.client, out: dir, maxRequestsPerBatch: 40, inlineMaxRequests: 0 });
      const shape = r.batches.map((b) => [b.model, b.requestCount, b.input]);
      assert.deepEqual(shape, [
        [DEFAULT_MODEL, 40, 'file'],
        [DEFAULT_MODEL, 40, 'file'],
        [DEFAULT_MODEL, 20, 'file'],
        ['gemini-3-pro-image', 10, 'file'],
      ]);
      assert.equal(env.emu.counters.uploads, 4);
      const summary = await waitForBatch(dir, { ...env.client, pollInitialMs: 5 });
      assert.equal(summary.succeeded, 110);
      const files = [...(await images(dir)).keys()];
      assert.equal(files.filter((f) => f.endsWith('.jpg')).length, 10, 'pro-image answers are JPEG');

      const bySize = env.dir('by-size');
      const s = await submitBatch(jobs(30), { ...env.client, out: bySize, maxBatchBytes: 1500, inlineMaxRequests: 0 });
      assert.ok(s.batches.length >= 3, `${s.batches.length} batches`);
      assert.equal(s.batches.reduce((n, b) => n + b.requestCount, 0), 30);
    } finally {
      await env.close();
    }
  });
});
