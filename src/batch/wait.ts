// waitForBatch(): polls the folder's batches with a growing interval until each one ends, collecting each as
// soon as it does. Transient trouble while polling or downloading (5xx, network, timeout, 429: the retry policy's
// transient set) is waited out; only run-level errors (bad key, permissions) and too many failures in a row end the
// wait. Each wait carries the retry policy's small jitter.
import { isApiError } from '../errors.ts';
import type { ApiError } from '../errors.ts';
import { cancelRemoteBatch } from '../gemini/batches.ts';
import type { BatchOperation } from '../gemini/wire.ts';
import { isTransientFailure, pollDelayMs } from '../scheduler/retry.ts';
import type { RunSummary } from '../types.ts';
import { fetchOperation, liveRecords, observe, openFolder } from './collect.ts';
import type { FolderContext } from './collect.ts';
import { streamLeftovers, writeFolderSummary } from './finish.ts';
import type { WaitOptions } from './options.ts';
import { BATCH_EXPIRY_MS, clockOf, resolveWait } from './options.ts';
import { isTerminal, recoverCreating, stateOf } from './remote.ts';
import { settleRecord } from './settle.ts';
import type { BatchRecord } from './state.ts';

/** Transient by the one retry policy's rules (scheduler/retry.ts). */
function isTransient(e: unknown): e is ApiError {
  return isApiError(e) && isTransientFailure(e);
}

/** The moment finishWithStream stops waiting for a record: its deadline (never past the 48 h expiry) minus the margin. */
export function streamAt(record: BatchRecord, marginMs?: number): number {
  const submitted = Date.parse(record.submittedAt);
  const expiry = Date.parse(record.createTime ?? record.submittedAt) + BATCH_EXPIRY_MS;
  const deadline = Math.min(Date.parse(record.deadlineAt), expiry);
  const margin = marginMs ?? Math.min(3_600_000, Math.max(0, deadline - submitted) / 4);
  return deadline - margin;
}

/**
 * Waits for every live batch of the folder `out` (or only `options.name`) and collects each one as it finishes.
 * Returns the folder's summary once none is left running. Abort the signal to stop waiting: the batches keep
 * running remotely and a later waitForBatch() or collectBatch() resumes from the folder's state.
 */
export async function waitForBatch(out: string, options: WaitOptions = {}): Promise<RunSummary> {
  const w = resolveWait(options);
  const ctx = await openFolder(out, options);
  const signal = options.signal;
  let delay = w.pollInitialMs;
  let failures = 0;
  const announced = new Set<string>();
  for (;;) {
    signal?.throwIfAborted();
    await recoverCreating(ctx.dir, ctx.client, { signal });
    const live = await liveRecords(ctx.dir, options.name);
    if (live.length === 0) break;
    let retryAfterMs = 0;
    let settled = false;
    for (const record of live) {
      signal?.throwIfAborted();
      try {
        if (options.finishWithStream && w.clock.now() >= streamAt(record, w.streamMarginMs)) {
          await abandon(ctx, record, options);
          settled = true;
          continue;
        }
        const op = await fetchOperation(ctx, record, signal);
        const updated = await observe(ctx, record, op, options, !announced.has(record.id));
        announced.add(record.id);
        if (isTerminal(stateOf(op))) {
          await settleRecord({ ...ctx, options }, updated, op);
          settled = true;
        }
        failures = 0;
      } catch (e) {
        if (!isTransient(e)) throw e;
        if (++failures > w.maxPollErrors) throw e;
        retryAfterMs = Math.max(retryAfterMs, e.retryAfterMs ?? 0);
        options.onBatchEvent?.({ type: 'batch_poll_error', name: record.name ?? record.displayName, message: e.message, retryInMs: Math.max(delay, retryAfterMs), at: w.clock.now() });
      }
    }
    if (settled) {
      // Something just finished; the others were submitted together and may be close behind.
      delay = w.pollInitialMs;
      if ((await liveRecords(ctx.dir, options.name)).length === 0) break;
    }
    await w.clock.sleep(pollDelayMs(delay, retryAfterMs, w.random), signal);
    delay = Math.min(delay * w.pollFactor, w.pollMaxMs);
  }
  if (options.finishWithStream) await streamLeftovers(ctx.dir, ctx.client, options);
  return writeFolderSummary(ctx.dir, options);
}

/** Deadline near: cancel the batch and settle it now, so its unanswered jobs go to streaming mode. */
async function abandon(ctx: FolderContext, record: BatchRecord, options: WaitOptions): Promise<void> {
  const signal = options.signal;
  options.onBatchEvent?.({ type: 'batch_deadline', name: record.name ?? record.displayName, at: clockOf(options).now() });
  await cancelRemoteBatch(ctx.client, record.name!, { signal }).catch((e: unknown) => {
    if (!isApiError(e)) throw e; // already finished, or gone: the state read below tells
  });
  let op: BatchOperation = await fetchOperation(ctx, record, signal);
  const updated = await observe(ctx, record, op, options);
  // A batch the server has not yet marked cancelled is treated as cancelled: we no longer wait for it.
  if (!isTerminal(stateOf(op))) op = { ...op, metadata: { ...op.metadata, state: 'BATCH_STATE_CANCELLED' } };
  await settleRecord({ ...ctx, options }, updated, op);
}
