// Batch mode takes its time from the injected clock: event times, record times, manifest lines and the summary
// are exact on a FakeClock instead of wall-clock ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { submitBatch } from '../../src/batch/index.ts';
import type { BatchEvent } from '../../src/batch/index.ts';
import type { BatchRecord } from '../../src/batch/state.ts';
import { FakeClock, abortableSleep } from '../../src/internal/clock.ts';
import { collectBatch } from '../../src/run-batch.ts';
import type { RunEvent, RunSummary } from '../../src/types.ts';
import { jobs, manifest, readJson, setup } from './batch-helpers.ts';

type StateFile = { startedAt?: string; batches: BatchRecord[] };

test('submit and collect on a FakeClock: every time is the fake one', async () => {
  const env = await setup();
  try {
    const submittedAt = Date.UTC(2026, 11, 1, 9, 0, 0);
    const clock = new FakeClock(submittedAt);
    const out = env.dir('clocked');
    const batchEvents: BatchEvent[] = [];
    const runEvents: RunEvent[] = [];
    await submitBatch(jobs(3), { ...env.client, out, clock, onBatchEvent: (e) => batchEvents.push(e) });
    const state = await readJson<StateFile>(join(out, 'batch-state.json'));
    assert.equal(state.startedAt, new Date(submittedAt).toISOString());
    assert.equal(state.batches[0]!.submittedAt, new Date(submittedAt).toISOString());
    assert.equal(state.batches[0]!.deadlineAt, new Date(submittedAt + 48 * 3600_000).toISOString());

    const collectedAt = submittedAt + 90_000;
    await clock.advanceTo(collectedAt);
    let summary: RunSummary | undefined;
    // The emulator runs the batch on its own (real, scaled) time; the library only reads our clock.
    for (let i = 0; i < 200 && summary === undefined; i++) {
      const r = await collectBatch(out, { ...env.client, clock, onBatchEvent: (e) => batchEvents.push(e), onEvent: (e) => runEvents.push(e) });
      if (r.pending === 0) summary = r.summary;
      else await abortableSleep(10);
    }
    assert.ok(summary, 'the batch never finished');
    assert.equal(summary.succeeded, 3);
    assert.equal(summary.wallMs, 90_000, 'wall time on the injected clock, from the submission');
    assert.ok(batchEvents.every((e) => e.at === submittedAt || e.at === collectedAt), JSON.stringify(batchEvents));
    assert.equal(batchEvents.find((e) => e.type === 'batch_submitted')?.at, submittedAt);
    assert.equal(batchEvents.find((e) => e.type === 'batch_collected')?.at, collectedAt);
    assert.deepEqual(runEvents.map((e) => [e.type, e.at]), [['succeeded', collectedAt], ['succeeded', collectedAt], ['succeeded', collectedAt]]);
    assert.deepEqual((await manifest(out)).map((e) => e.finishedAt), Array(3).fill(new Date(collectedAt).toISOString()));
    const settled = (await readJson<StateFile>(join(out, 'batch-state.json'))).batches[0]!;
    assert.equal(settled.settledAt, new Date(collectedAt).toISOString());
  } finally {
    await env.close();
  }
});
