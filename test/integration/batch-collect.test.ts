// Batch mode against the emulator ends in the same folder streaming mode makes: same file names and bytes,
// same manifest keys; per-line errors become failed results (or are finished by streaming).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { submitBatch } from '../../src/batch/index.ts';
import { collectBatch, waitForBatch } from '../../src/run-batch.ts';
import type { BatchEvent } from '../../src/batch/index.ts';
import { runToDisk } from '../../src/run-disk.ts';
import type { RunEvent, RunSummary } from '../../src/types.ts';
import { entriesByKey, images, jobs, manifest, readJson, setup } from './batch-helpers.ts';
import type { Env } from './batch-helpers.ts';

const N = 1000;
const EVERY = 50;

describe('1,000 jobs: submit → wait → collect equals streaming mode', () => {
  let env: Env;
  const input = jobs(N);
  let streamDir: string;
  let batchDir: string;
  const batchEvents: BatchEvent[] = [];
  const runEvents: RunEvent[] = [];
  let summary: RunSummary;

  before(async () => {
    env = await setup({ batch: { lineErrorEvery: EVERY } });
    streamDir = env.dir('stream');
    batchDir = env.dir('batch');
    await runToDisk(input, { ...env.client, out: streamDir, cacheDir: false, concurrency: 32, adaptive: false, gallery: false });
    const submitted = await submitBatch(input, { ...env.client, out: batchDir, onBatchEvent: (e) => batchEvents.push(e) });
    assert.equal(submitted.submitted, N);
    assert.equal(submitted.batches.length, 1);
    assert.equal(submitted.batches[0]!.input, 'file', '1,000 requests are uploaded, not inline');
    summary = await waitForBatch(batchDir, { ...env.client, pollInitialMs: 5, onBatchEvent: (e) => batchEvents.push(e), onEvent: (e) => runEvents.push(e) });
  });
  after(() => env.close());

  test('every key once; the lines the emulator failed are failed results with reason server', async () => {
    const stream = await entriesByKey(streamDir);
    const batch = await entriesByKey(batchDir);
    assert.deepEqual([...batch.keys()].sort(), [...stream.keys()].sort());
    const failed = [...batch.values()].filter((e) => e.status === 'failed');
    assert.equal(failed.length, N / EVERY);
    for (const e of failed) {
      assert.equal(e.reason, 'server');
      assert.equal((e.index + 1) % EVERY, 0, `line ${e.index + 1} failed but is not a multiple of ${EVERY}`);
    }
    assert.equal(summary.succeeded, N - N / EVERY);
    assert.equal(summary.failed, N / EVERY);
    assert.deepEqual(summary.byReason, { server: N / EVERY });
  });

  test('answered keys have the same files, byte for byte, as streaming mode', async () => {
    const stream = await entriesByKey(streamDir);
    const batch = await entriesByKey(batchDir);
    let compared = 0;
    for (const [key, e] of batch) {
      if (e.status !== 'succeeded') continue;
      assert.deepEqual(
        e.files.map((f) => [f.path, f.sha256]),
        stream.get(key)!.files.map((f) => [f.path, f.sha256]),
        key,
      );
      compared++;
    }
    assert.equal(compared, N - N / EVERY);
    const onDisk = await images(batchDir);
    assert.equal(onDisk.size, compared);
  });

  test('marked from: batch and priced at half the interactive price', async () => {
    const stream = await entriesByKey(streamDir);
    for (const [key, e] of await entriesByKey(batchDir)) {
      if (e.status !== 'succeeded') continue;
      assert.equal(e.from, 'batch');
      assert.ok(e.costUsd! > 0);
      assert.ok(Math.abs(e.costUsd! * 2 - stream.get(key)!.costUsd!) < 1e-9, `${key}: ${e.costUsd} vs ${stream.get(key)!.costUsd}`);
    }
  });

  test('summary.json, index.html, events', async () => {
    const written = await readJson<RunSummary>(join(batchDir, 'summary.json'));
    assert.equal(written.total, N);
    assert.equal(written.succeeded, summary.succeeded);
    assert.ok((await stat(join(batchDir, 'index.html'))).size > 1000);
    assert.equal(batchEvents.filter((e) => e.type === 'batch_submitted').length, 1);
    assert.ok(batchEvents.some((e) => e.type === 'batch_collected' && e.saved === N));
    assert.equal(runEvents.filter((e) => e.type === 'succeeded').length, N - N / EVERY);
    assert.equal(runEvents.filter((e) => e.type === 'failed').length, N / EVERY);
  });

  test('finishWithStream then runs only the failed lines, leaving exactly the streaming folder', async () => {
    env.emu.resetCounters();
    const r = await collectBatch(batchDir, { ...env.client, finishWithStream: true, stream: { concurrency: 8 } });
    assert.equal(r.streamed, N / EVERY);
    assert.equal(env.emu.counters.byRoute.generateContent, N / EVERY, 'one streaming request per failed line, nothing else');
    assert.deepEqual(await images(batchDir), await images(streamDir));
    const batch = await manifestKeysLastStatus(batchDir);
    assert.equal(batch.size, N);
    assert.ok([...batch.values()].every((s) => s === 'succeeded'));
    assert.equal(r.summary.succeeded, N);
    assert.equal(r.summary.failed, 0);
  });
});

/** After finishing with streaming a key may have two lines (batch failure, then stream success): the last wins. */
async function manifestKeysLastStatus(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await manifest(dir)) out.set(e.key, e.status);
  return out;
}
