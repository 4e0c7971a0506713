// collectBatch(): one pass over the folder's batches. Finished ones are written into the folder (answers, or
// their unanswered jobs), unfinished ones are left for later; then the summary and gallery are rewritten.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BatchError, StorageError, isApiError } from '../errors.ts';
import type { GeminiClient } from '../gemini/client.ts';
import { getBatch } from '../gemini/batches.ts';
import type { BatchOperation } from '../gemini/wire.ts';
import type { RunSummary } from '../types.ts';
import { streamLeftovers, writeFolderSummary } from './finish.ts';
import type { CollectOptions } from './options.ts';
import { clockOf, makeClient } from './options.ts';
import { fromOperation, isTerminal, recoverCreating, stateOf } from './remote.ts';
import { settleRecord } from './settle.ts';
import { SpendMeter } from './budget.ts';
import type { BatchRecord } from './state.ts';
import { patchRecord, readState } from './state.ts';

export interface CollectResult {
  /** Results written to the folder by this call. */
  saved: number;
  /** Answers skipped because the folder already had them (a resumed fetch). */
  skipped: number;
  /** Batches still pending or running. */
  pending: number;
  /** Jobs run through streaming mode (finishWithStream). */
  streamed: number;
  summary: RunSummary;
}

export interface FolderContext {
  dir: string;
  client: GeminiClient;
  /** What this call's saved answers cost, against maxCostUsd. */
  spend: SpendMeter;
}

export async function openFolder(out: string, options: CollectOptions): Promise<FolderContext> {
  const dir = resolve(out);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new StorageError(dir, `${dir} is not an output folder with batch jobs (submit some first)`);
  }
  const state = await readState(dir);
  return { dir, client: makeClient(options, state.baseUrl), spend: new SpendMeter() };
}

/** The records this call works on: not yet settled, and the one asked for when `name` is set. */
export async function liveRecords(dir: string, name?: string): Promise<BatchRecord[]> {
  const all = (await readState(dir)).batches;
  if (name && !all.some((r) => r.name === name)) throw new BatchError(name, `${name} is not a batch of this folder`);
  return all.filter((r) => r.phase === 'live' && (!name || r.name === name));
}

/**
 * The operation for a record; a batch the server no longer knows (deleted, or gone after expiry) reads as a
 * FAILED operation so its jobs are still accounted for.
 */
export async function fetchOperation(ctx: FolderContext, record: BatchRecord, signal?: AbortSignal): Promise<BatchOperation> {
  try {
    return await getBatch(ctx.client, record.name!, { signal });
  } catch (e) {
    if (isApiError(e) && e.httpStatus === 404) {
      return {
        name: record.name!,
        metadata: { name: record.name!, state: 'BATCH_STATE_FAILED' },
        done: true,
        error: { code: 5, message: 'the batch no longer exists on the server (deleted or expired)' },
      };
    }
    throw e;
  }
}

/** Records what the server said and reports a change of state or counts (or any state, with `announce`). */
export async function observe(ctx: FolderContext, record: BatchRecord, op: BatchOperation, options: CollectOptions, announce = false): Promise<BatchRecord> {
  const patch = fromOperation(op);
  const before = `${record.state}|${JSON.stringify(record.counts)}`;
  const updated = (await patchRecord(ctx.dir, record.id, patch)) ?? { ...record, ...patch };
  if ((announce || `${updated.state}|${JSON.stringify(updated.counts)}` !== before) && updated.counts) {
    options.onBatchEvent?.({ type: 'batch_state', name: op.name, state: stateOf(op), counts: updated.counts, at: clockOf(options).now() });
  }
  return updated;
}

/**
 * Collects every finished batch of the folder `out` (or only `options.name`): answers are streamed from the results
 * file into images + manifest lines, unanswered jobs become failed results or, with finishWithStream, go through
 * streaming mode. Batches still running are left alone (see waitForBatch). Safe to call again at any time.
 */
export async function collectBatch(out: string, options: CollectOptions = {}): Promise<CollectResult> {
  const ctx = await openFolder(out, options);
  const signal = options.signal;
  await recoverCreating(ctx.dir, ctx.client, { signal });
  const result = { saved: 0, skipped: 0, pending: 0, streamed: 0 };
  for (const record of await liveRecords(ctx.dir, options.name)) {
    const op = await fetchOperation(ctx, record, signal);
    const updated = await observe(ctx, record, op, options);
    if (!isTerminal(stateOf(op))) {
      result.pending++;
      continue;
    }
    const c = await settleRecord({ ...ctx, options }, updated, op);
    result.saved += c.saved;
    result.skipped += c.skipped;
  }
  if (options.finishWithStream) result.streamed = await streamLeftovers(ctx.dir, ctx.client, options);
  const summary = await writeFolderSummary(ctx.dir, options);
  return { ...result, summary };
}
