// Options of the batch workflow: documented defaults applied and validated here, the client built here,
// and the progress events the workflow emits.
import { DEFAULTS } from '../defaults.ts';
import { OptionError } from '../errors.ts';
import { GeminiClient } from '../gemini/client.ts';
import type { Clock } from '../internal/clock.ts';
import { systemClock } from '../internal/clock.ts';
import type { RunToDiskOptions } from '../options.ts';
import type { Job, RunEvent, RunSummary } from '../types.ts';
import type { RecordCounts } from './state.ts';
import { optionalNumber } from '../internal/check.ts';

/** Google's turnaround limit: a job pending or running longer becomes EXPIRED. */
export const BATCH_EXPIRY_MS = 48 * 3600 * 1000;
/** Google's cap on one inline batch request. */
export const INLINE_LIMIT_BYTES = 20 * 1024 * 1024;
/** Google's cap on one input file. */
export const FILE_LIMIT_BYTES = 2 * 1024 * 1024 * 1024;

export type BatchEvent =
  | { type: 'batch_submitted'; name: string; id: string; model: string; requests: number; input: 'file' | 'inline'; at: number }
  | { type: 'batch_state'; name: string; state: string; counts: RecordCounts; at: number }
  | { type: 'batch_poll_error'; name: string; message: string; retryInMs: number; at: number }
  | { type: 'batch_collected'; name: string; state: string; saved: number; skipped: number; at: number }
  /** finishWithStream: the deadline is near, so the batch was cancelled and its jobs go to streaming mode. */
  | { type: 'batch_deadline'; name: string; at: number }
  | { type: 'batch_streaming'; jobs: number; at: number }
  | { type: 'batch_cleanup'; name: string; deleted: string[]; at: number };

export interface BatchClientOptions {
  /** @default env GEMINI_API_KEY, then GOOGLE_API_KEY */
  apiKey?: string;
  /** @default env GEMINI_BASE_URL, then GOOGLE_GEMINI_BASE_URL, then the one saved in the folder's batch-state.json, then Google */
  baseUrl?: string;
  /** Injectable transport. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per API call (a download: per gap between chunks). @default 120000 */
  timeoutMs?: number;
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** A ready client; wins over apiKey, baseUrl, fetch and timeoutMs. @default built from those */
  client?: GeminiClient;
  /** Cancels the call; state already written stays valid for the next call. @default none */
  signal?: AbortSignal;
  /** Progress of batch jobs (submitted, state changes, collection). @default none */
  onBatchEvent?: (event: BatchEvent) => void;
  /** Per-job events (skipped, succeeded, failed), the same as streaming mode's. @default none */
  onEvent?: (event: RunEvent) => void;
  /** Time source of event times, record times, polling and deadlines (epoch ms). @default the system clock */
  clock?: Clock;
}

/**
 * Streaming mode, handed to the batch workflow (which does not import it) to finish unanswered jobs into the same
 * folder: `runToDisk`, or anything that writes the folder the same way.
 */
export type StreamRunner = (jobs: Job[], options: RunToDiskOptions) => Promise<RunSummary>;

export interface CollectOptions extends BatchClientOptions {
  /** Only this batch (`batches/<id>`). @default every batch of the folder */
  name?: string;
  /** The answers saved are counted at batch prices; passing this emits one `warning` event (they are paid already). @default undefined (no cap) */
  maxCostUsd?: number;
  /**
   * USD per image for a model the registry has no price for, counted as given (not halved: such a model's batch
   * discount is unknown too, and a budget must not count less than Google bills). @default none (its cost is unknown)
   */
  pricePerImageUsd?: number;
  /** Delete the remote input file, output file and batch job once the results are in the folder. @default false */
  cleanup?: boolean;
  /**
   * Run unanswered jobs (expired, failed or cancelled batches, failed lines, jobs still pending near the deadline)
   * through streaming mode so the folder ends complete. When false they become failed results (batch_expired /
   * batch_failed, or the line's own reason). @default false
   */
  finishWithStream?: boolean;
  /** Options of the streaming run used by finishWithStream (client fields default to this call's). @default {} */
  stream?: Omit<RunToDiskOptions, 'out'>;
  /** The streaming run used by finishWithStream. @default runToDisk (through the package entry); required for finishWithStream otherwise */
  streamWith?: StreamRunner;
  /**
   * Answers written at once while reading results. Many small writes in flight let the file system group their
   * fsyncs (bench/batch-fetch.ts: 64 costs less CPU per result than 16); writeBufferBytes bounds the memory. @default 64
   */
  writeConcurrency?: number;
  /**
   * Decoded image bytes that writes in flight may hold: reading the results file waits while more are held (one
   * answer always goes), so 4K images write a few at a time and small ones up to writeConcurrency. @default 64 MiB
   */
  writeBufferBytes?: number;
  /** How earlier images are checked before skipping their keys. @default 'sha256' */
  verify?: 'size' | 'sha256';
  /** Manifest fsync policy. @default 'batch' */
  fsync?: 'always' | 'batch';
  /** Write index.html after collecting. @default true */
  gallery?: boolean;
}

export interface WaitOptions extends CollectOptions {
  /** First poll interval. @default 5000 */
  pollInitialMs?: number;
  /** Longest poll interval. @default 60000 */
  pollMaxMs?: number;
  /** Growth of the interval after each poll. @default 1.5 */
  pollFactor?: number;
  /** Consecutive failed polls (5xx, network, timeout, 429) tolerated before giving up. @default 20 */
  maxPollErrors?: number;
  /** Randomness of the poll jitter (each wait is up to 10%, at most 250 ms, longer). @default Math.random */
  random?: () => number;
  /** finishWithStream: stream the jobs of a batch still unfinished this long before its deadline. @default min(1 h, a quarter of the deadline window) */
  streamMarginMs?: number;
}

export interface SubmitOptions extends BatchClientOptions {
  /** Output folder: the state file, the jobs files and later the images go here. @default './imagebatch-out' */
  out?: string;
  /** Model for jobs that name none; one batch per model. @default DEFAULT_MODEL (src/models) */
  model?: string;
  /** Run-wide aspect ratio (a job's own wins). @default the model's default */
  aspectRatio?: string;
  /** Run-wide image size (a job's own wins). @default the model's default */
  imageSize?: string;
  /** A batch of at most this many requests is sent inline (no upload). 0 disables inline. @default 20 */
  inlineMaxRequests?: number;
  /** ...and at most this many bytes of JSONL (Google's inline cap is 20 MB). @default 4 MiB */
  inlineMaxBytes?: number;
  /** Split into another batch past this many requests. @default 50000 */
  maxRequestsPerBatch?: number;
  /** Split into another batch past this many bytes of JSONL (Google's file cap is 2 GB). @default 1.5 GiB */
  maxBatchBytes?: number;
  /** finishWithStream deadline, counted from submission; never later than the 48 h expiry. @default 48 h */
  deadlineMs?: number;
  /** Forget this folder's earlier results and batch records first (remote batches are left alone). @default false */
  fresh?: boolean;
  /** How earlier images are checked before skipping their jobs. @default 'sha256' */
  verify?: 'size' | 'sha256';
  /** Submit only the jobs whose last manifest line is a failure (as runToDisk's retryFailed). @default false */
  retryFailed?: boolean;
  /** Where the request JSONL is spooled before upload. @default os.tmpdir() */
  tempDir?: string;
  /**
   * Refuse (BatchBudgetError, before anything is sent) when the estimate of the requests to submit, at batch prices,
   * passes this. Batches are then held until the whole input is read. @default undefined (no cap)
   */
  maxCostUsd?: number;
  /** A reference image given as a URL larger than this stops the submission (reading stops at the cap). @default 20 MB */
  maxReferenceBytes?: number;
  /** USD per image for a model the registry has no price for, for the maxCostUsd estimate. @default none (a cap then refuses such a model) */
  pricePerImageUsd?: number;
  /**
   * GET models/{id} once per distinct model before anything is uploaded for it; a 404 throws ModelNotFoundError.
   * An array input is checked whole before the folder is touched; a stream, model by model as it is read.
   * @default true
   */
  preflight?: boolean;
}

export function makeClient(o: BatchClientOptions, savedBaseUrl?: string): GeminiClient {
  if (o.client) return o.client;
  const env = o.env ?? process.env;
  const set = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v : undefined);
  const baseUrl = set(o.baseUrl) ?? set(env.GEMINI_BASE_URL) ?? set(env.GOOGLE_GEMINI_BASE_URL) ?? set(savedBaseUrl);
  return new GeminiClient({ apiKey: o.apiKey, baseUrl, fetch: o.fetch, timeoutMs: o.timeoutMs, env });
}

function count(name: string, v: unknown, fallback: number, min: number): number {
  return optionalNumber(name, v, { integer: true, min }, fallback);
}

function ms(name: string, v: unknown, fallback: number): number {
  return optionalNumber(name, v, { min: 0, unit: 'milliseconds' }, fallback);
}

export function resolveSubmit(o: SubmitOptions) {
  const maxBatchBytes = count('maxBatchBytes', o.maxBatchBytes, DEFAULTS.batch.maxBatchBytes, 1);
  if (maxBatchBytes > FILE_LIMIT_BYTES) throw new OptionError('maxBatchBytes', maxBatchBytes, `at most ${FILE_LIMIT_BYTES} (2 GB, the file limit)`);
  const inlineMaxBytes = count('inlineMaxBytes', o.inlineMaxBytes, DEFAULTS.batch.inlineMaxBytes, 0);
  // Headroom for the envelope ({"batch":{"inputConfig":{"requests":...}}} and metadata) under the 20 MB cap.
  if (inlineMaxBytes > INLINE_LIMIT_BYTES - 64 * 1024) throw new OptionError('inlineMaxBytes', inlineMaxBytes, 'below 20 MB (the inline request limit)');
  const deadlineMs = ms('deadlineMs', o.deadlineMs, BATCH_EXPIRY_MS);
  return {
    out: o.out ?? DEFAULTS.out,
    inlineMaxRequests: count('inlineMaxRequests', o.inlineMaxRequests, DEFAULTS.batch.inlineMaxRequests, 0),
    inlineMaxBytes,
    maxRequestsPerBatch: count('maxRequestsPerBatch', o.maxRequestsPerBatch, DEFAULTS.batch.maxRequestsPerBatch, 1),
    maxBatchBytes,
    deadlineMs: Math.min(deadlineMs, BATCH_EXPIRY_MS),
  };
}

export function resolveWait(o: WaitOptions) {
  if (o.random !== undefined && typeof o.random !== 'function') throw new OptionError('random', o.random, 'a function returning a number in [0, 1)');
  const pollFactor = o.pollFactor ?? DEFAULTS.batch.pollFactor;
  if (typeof pollFactor !== 'number' || !Number.isFinite(pollFactor) || pollFactor < 1) throw new OptionError('pollFactor', pollFactor, 'a number ≥ 1');
  const pollInitialMs = ms('pollInitialMs', o.pollInitialMs, DEFAULTS.batch.pollInitialMs);
  return {
    pollInitialMs,
    pollMaxMs: Math.max(pollInitialMs, ms('pollMaxMs', o.pollMaxMs, DEFAULTS.batch.pollMaxMs)),
    pollFactor,
    maxPollErrors: count('maxPollErrors', o.maxPollErrors, DEFAULTS.batch.maxPollErrors, 0),
    streamMarginMs: o.streamMarginMs === undefined ? undefined : ms('streamMarginMs', o.streamMarginMs, 0),
    random: o.random ?? Math.random,
    clock: clockOf(o),
  };
}

export function clockOf(o: BatchClientOptions): Clock {
  return o.clock ?? systemClock;
}

export function writeConcurrencyOf(o: CollectOptions): number {
  return count('writeConcurrency', o.writeConcurrency, DEFAULTS.batch.writeConcurrency, 1);
}

export function writeBufferBytesOf(o: CollectOptions): number {
  return count('writeBufferBytes', o.writeBufferBytes, DEFAULTS.batch.writeBufferBytes, 1);
}
