// Composition of batch mode: runBatch() is the Batch API counterpart of runToDisk() (submit, wait, collect, and
// finish with streaming when asked) into the same folder layout, manifest, summary and gallery. batch/ does not
// know streaming mode; this is where runToDisk is handed to it (the public waitForBatch/collectBatch too).
import { collectBatch as collectWith } from './batch/collect.ts';
import type { CollectResult } from './batch/collect.ts';
import { writeFolderSummary } from './batch/finish.ts';
import type { BatchEvent, CollectOptions, WaitOptions } from './batch/options.ts';
import { clockOf } from './batch/options.ts';
import { submitBatch } from './batch/submit.ts';
import { waitForBatch as waitWith } from './batch/wait.ts';
import { DEFAULTS } from './defaults.ts';
import { isRunLevelError } from './errors.ts';
import type { GeminiClient } from './gemini/client.ts';
import type { JobsSource, RunToDiskOptions } from './options.ts';
import { runToDisk } from './run-disk.ts';
import type { RunSummary } from './types.ts';

/** The batch options with streaming mode as the finisher unless the caller brought their own. */
const streaming = <O extends CollectOptions>(o: O): O => ({ ...o, streamWith: o.streamWith ?? runToDisk });

/**
 * Polls the folder's batches until every one has ended, saving each one's results as it ends, then writes the
 * summary (see batch/wait.ts). finishWithStream runs what the batches did not answer through runToDisk.
 */
export function waitForBatch(out: string, options: WaitOptions = {}): Promise<RunSummary> {
  return waitWith(out, streaming(options));
}

/** Saves the results of the folder's batches that have ended, without waiting (see batch/collect.ts). */
export function collectBatch(out: string, options: CollectOptions = {}): Promise<CollectResult> {
  return collectWith(out, streaming(options));
}

export interface RunBatchOptions extends RunToDiskOptions {
  /** Finish unanswered jobs (expired/failed batches, failed lines, near the deadline) in streaming mode. @default false */
  finishWithStream?: boolean;
  /** How long the results may take; with finishWithStream, streaming takes over near it. @default 48 h (the expiry) */
  deadlineMs?: number;
  /** Delete remote input/output files and the batch job after collecting. @default false */
  cleanup?: boolean;
  /** See SubmitOptions. @default 20 */
  inlineMaxRequests?: number;
  /** See SubmitOptions. @default 4 MiB */
  inlineMaxBytes?: number;
  /** See SubmitOptions. @default 50000 */
  maxRequestsPerBatch?: number;
  /** See SubmitOptions. @default 1.5 GiB */
  maxBatchBytes?: number;
  /** See WaitOptions. @default 5000 */
  pollInitialMs?: number;
  /** See WaitOptions. @default 60000 */
  pollMaxMs?: number;
  /** See WaitOptions. @default 1.5 */
  pollFactor?: number;
  /** See WaitOptions. @default 20 */
  maxPollErrors?: number;
  /** See WaitOptions. @default min(1 h, a quarter of the deadline window) */
  streamMarginMs?: number;
  /** See CollectOptions. @default 64 */
  writeConcurrency?: number;
  /** See CollectOptions. @default 64 MiB */
  writeBufferBytes?: number;
  /** Batch progress (submitted, state changes, collection, streaming). @default none */
  onBatchEvent?: (event: BatchEvent) => void;
  /** A ready client for the batch calls. @default built from apiKey, baseUrl, fetch, timeoutMs */
  client?: GeminiClient;
  /** Where request JSONL is spooled before upload. @default os.tmpdir() */
  tempDir?: string;
}

/**
 * Submits every job not yet done in `options.out` as Batch API jobs, waits for them and writes the results into
 * the folder. A stop (signal or stopSignal) ends the wait, not the batches: the summary is written and returned
 * with `stoppedBy`, and `waitForBatch(out)` later picks up where this left off. Run-level failures throw after the
 * summary is written, as runToDisk does.
 */
export async function runBatch(jobs: JobsSource, options: RunBatchOptions = {}): Promise<RunSummary> {
  const out = options.out ?? DEFAULTS.out;
  const stops = [options.signal, options.stopSignal].filter((s): s is AbortSignal => s !== undefined);
  const signal = stops.length ? AbortSignal.any(stops) : undefined;
  const common = {
    apiKey: options.apiKey,
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    env: options.env,
    client: options.client,
    clock: options.clock,
    signal,
    onEvent: options.onEvent,
    onBatchEvent: options.onBatchEvent,
  };
  const wait: WaitOptions = {
    ...common,
    finishWithStream: options.finishWithStream,
    cleanup: options.cleanup,
    stream: options,
    verify: options.verify,
    fsync: options.fsync,
    gallery: options.gallery,
    writeConcurrency: options.writeConcurrency,
    writeBufferBytes: options.writeBufferBytes,
    pollInitialMs: options.pollInitialMs,
    pollMaxMs: options.pollMaxMs,
    pollFactor: options.pollFactor,
    maxPollErrors: options.maxPollErrors,
    streamMarginMs: options.streamMarginMs,
    maxCostUsd: options.maxCostUsd,
    pricePerImageUsd: options.pricePerImageUsd,
  };
  let summary: RunSummary;
  try {
    await submitBatch(jobs, {
      ...common,
      out,
      model: options.model,
      aspectRatio: options.aspectRatio,
      imageSize: options.imageSize,
      fresh: options.fresh,
      retryFailed: options.retryFailed,
      verify: options.verify,
      inlineMaxRequests: options.inlineMaxRequests,
      inlineMaxBytes: options.inlineMaxBytes,
      maxRequestsPerBatch: options.maxRequestsPerBatch,
      maxBatchBytes: options.maxBatchBytes,
      deadlineMs: options.deadlineMs,
      tempDir: options.tempDir,
      maxCostUsd: options.maxCostUsd,
      maxReferenceBytes: options.maxReferenceBytes,
      pricePerImageUsd: options.pricePerImageUsd,
      preflight: options.preflight,
    });
    summary = await waitForBatch(out, wait);
  } catch (err) {
    const stopped = signal?.aborted === true;
    if (!stopped && !isRunLevelError(err)) throw err;
    summary = await writeFolderSummary(out, { ...wait, signal: undefined }, stopped ? 'stopped by signal' : (err as Error).message);
    options.onEvent?.({ type: 'done', summary, at: clockOf(options).now() });
    if (!stopped) throw err;
    return summary;
  }
  options.onEvent?.({ type: 'done', summary, at: clockOf(options).now() });
  return summary;
}
