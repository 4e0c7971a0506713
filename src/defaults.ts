// Every option's default, once. The library applies them where options are resolved; the CLI prints them in
// --help and passes only what the user set, so a default changed here changes both.
import { DEFAULT_MODEL } from './models/index.ts';

/** Model for jobs that name none: the model registry's choice. */
export { DEFAULT_MODEL };

export const DEFAULTS = Object.freeze({
  /** Output folder of runToDisk, runBatch, submitBatch and the CLI. */
  out: './imagebatch-out',
  /** Model for jobs that name none (the model registry's DEFAULT_MODEL). */
  model: DEFAULT_MODEL,
  /** Most requests in flight (the ceiling when adaptive). */
  concurrency: 8,
  adaptive: true,
  /** One HTTP attempt, body included. */
  timeoutMs: 120_000,
  /** Attempts per job, the first included. */
  maxAttempts: 6,
  /** A server-announced wait longer than this stops the run. */
  maxRetryDelayMs: 300_000,
  ordered: false,
  /** The server's quota window, over which per-minute rates are learned: Google counts per minute. */
  quotaWindowMs: 60_000,
  /** GET models/{id} once per distinct model before its first request (a 404 stops the run before anything is paid). */
  preflight: true,
  /** Manifest fsync policy. */
  fsync: 'batch' as 'always' | 'batch',
  /** How resume checks earlier images. */
  verify: 'sha256' as 'size' | 'sha256',
  gallery: true,
  /** Images per prompt (separate requests). */
  variants: 1,
  /** After a first Ctrl-C, how long in-flight requests may finish (CLI). */
  graceMs: 30_000,
  /** --mode auto: use the Batch API from this many jobs on. */
  batchThreshold: 500,
  batch: Object.freeze({
    inlineMaxRequests: 20,
    inlineMaxBytes: 4 * 1024 * 1024,
    maxRequestsPerBatch: 50_000,
    maxBatchBytes: 1.5 * 1024 ** 3,
    pollInitialMs: 5000,
    pollMaxMs: 60_000,
    pollFactor: 1.5,
    maxPollErrors: 20,
    writeConcurrency: 64,
    writeBufferBytes: 64 * 1024 * 1024,
  }),
});
