// --max-cost in batch mode: a submission estimated over the cap sends nothing; under it, held batches all go out;
// fetched answers past the cap are flagged once and still saved.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { BatchBudgetError } from '../../src/errors.ts';
import { submitBatch, waitForBatch } from '../../src/batch/index.ts';
import { runBatch } from '../../src/run-batch.ts';
import { DEFAULT_MODELS } from '../../src/emulator/index.ts';
import { JOBS_DIR, readState } from '../../src/batch/state.ts';
import { estimateCost } from '../../src/report/cost.ts';
import { DEFAULT_MODEL } from '../../src/models/index.ts';
import type { RunEvent } from '../../src/types.ts';
import { jobs, manifest, setup } from './batch-helpers.ts';
import type { Env } from './batch-helpers.ts';

// submitBatch's jobs name no model: they run on the default one.
const MODEL = DEFAULT_MODEL;
/** A model newer than the registry (the emulator serves it). */
const FUTURE = 'gemini-9-image';

describe('batch budgets', () => {
  let env: Env;
  before(async () => {
    env = await setup();
  });
  after(() => env.close());

  test('an estimate over --max-cost (at batch prices) refuses before any upload or batch, naming the estimate', async () => {
    const out = env.dir('over');
    const estimate = estimateCost(MODEL, 12, { mode: 'batch' });
    assert.ok(estimate > 0.01);
    await assert.rejects(submitBatch(jobs(12), { ...env.client, model: MODEL, out, maxCostUsd: 0.01, maxRequestsPerBatch: 5, inlineMaxRequests: 0 }), (e: unknown) => {
      assert.ok(e instanceof BatchBudgetError);
      assert.equal(e.requests, 12);
      assert.ok(Math.abs(e.estimateUsd - estimate) < 1e-9, `${e.estimateUsd} vs ${estimate}`);
      assert.match(e.message, new RegExp(`estimated at \\$${estimate.toFixed(4).replace('.', '\\.')} \\(batch prices\\), over --max-cost \\$0\\.0100; nothing was sent`));
      return true;
    });
    assert.equal(env.emu.counters.batchesCreated, 0);
    assert.equal(env.emu.counters.uploads, 0);
    assert.deepEqual((await readState(out)).batches, []);
    assert.deepEqual(await readdir(`${out}/${JOBS_DIR}`).catch(() => []), []);
  });

  test('under the cap every held batch is sent; answers past a smaller cap at fetch time are flagged once, all saved', async () => {
    const out = env.dir('under');
    const r = await submitBatch(jobs(12), { ...env.client, out, maxCostUsd: 1, maxRequestsPerBatch: 5 });
    assert.equal(r.submitted, 12);
    assert.equal(r.batches.length, 3);
    const events: RunEvent[] = [];
    const perImage = estimateCost(MODEL, 1, { mode: 'batch' });
    const summary = await waitForBatch(out, { ...env.client, pollInitialMs: 5, maxCostUsd: perImage * 4.5, onEvent: (e) => events.push(e) });
    assert.equal(summary.succeeded, 12);
    const warnings = events.filter((e) => e.type === 'warning');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match((warnings[0] as { message: string }).message, /^the fetched batch answers cost \$0\.\d{4}, over --max-cost \$0\.\d{4}/);
    assert.equal((await manifest(out)).length, 12);
  });

  test('a model newer than the registry in batch mode: cost unknown without a price, the given price with one (runBatch)', async () => {
    const e = await setup({ models: [...DEFAULT_MODELS, FUTURE] });
    try {
      const base = { ...e.client, model: FUTURE, pollInitialMs: 5, cacheDir: false as const };
      const unknown = await runBatch(jobs(2), { ...base, out: e.dir('unknown') });
      assert.equal(unknown.succeeded, 2);
      assert.deepEqual(unknown.unpriced, { answers: 2, images: 2, models: [FUTURE] });
      assert.ok((await manifest(e.dir('unknown'))).every((l) => l.costUsd === undefined), 'no made-up $0 in the manifest');
      const priced = await runBatch(jobs(2, 'a boat'), { ...base, out: e.dir('priced'), pricePerImageUsd: 0.05, maxCostUsd: 1 });
      assert.equal(priced.unpriced, undefined);
      assert.equal(priced.costUsd, 0.1, 'the given price, counted as given');
    } finally {
      await e.close();
    }
  });
});
