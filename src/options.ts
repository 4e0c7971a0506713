// Run options: documented, validated and defaulted (from src/defaults.ts) in one place.
// Precedence: an explicit option beats an environment variable, which beats the default.
import { OptionError } from './errors.ts';
import type { Clock } from './internal/clock.ts';
import { systemClock } from './internal/clock.ts';
import type { JobInput, Result, RunEvent } from './types.ts';
import type { Backend } from './gemini/backend.ts';
import { resolveSharedQuota } from './quota/options.ts';
import type { ResolvedSharedQuota, SharedQuotaOptions } from './quota/options.ts';
import { DEFAULTS } from './defaults.ts';
import { optionalNumber } from './internal/check.ts';
import { knownModel } from './report/cost.ts';

export interface GenerateOptions {
  /** API key. @default env GEMINI_API_KEY, then GOOGLE_API_KEY */
  apiKey?: string;
  /** REST base URL. @default env GEMINI_BASE_URL, then GOOGLE_GEMINI_BASE_URL, then https://generativelanguage.googleapis.com */
  baseUrl?: string;
  /** Model for jobs that name none. @default DEFAULT_MODEL (src/models) */
  model?: string;
  /** Most requests in flight at once; with `adaptive` this is the ceiling. @default 8 */
  concurrency?: number;
  /**
   * Find the sustainable concurrency from 429/503 and latency samples. Not used when `requestsPerMinute` is given:
   * the known rate paces every start and the cap stays at `concurrency`. @default true
   */
  adaptive?: boolean;
  /** Client-side request rate limit (per minute). @default unlimited */
  requestsPerMinute?: number;
  /** Client-side image rate limit (per minute). @default unlimited */
  imagesPerMinute?: number;
  /**
   * The server's quota window, over which a rate is learned from per-minute 429s (locally or in the shared quota):
   * 60 s at Google; shorter only against a time-scaled emulator. @default 60000
   */
  quotaWindowMs?: number;
  /** Deadline of one HTTP attempt, body included. @default 120000 */
  timeoutMs?: number;
  /** Attempts per job, the first included. @default 6 */
  maxAttempts?: number;
  /** A server-announced retry delay longer than this ends the run (exit 3) instead of waiting. @default 300000 */
  maxRetryDelayMs?: number;
  /** Run-wide aspect ratio (a job's own wins), e.g. "16:9". @default the model's default */
  aspectRatio?: string;
  /** Run-wide image size, "1K" | "2K" | "4K". @default the model's default */
  imageSize?: string;
  /** Yield results in input order (bounded buffering) instead of completion order. @default false */
  ordered?: boolean;
  /** Hard stop: aborts in-flight requests. */
  signal?: AbortSignal;
  /** Soft stop: no new attempt starts; in-flight requests finish. */
  stopSignal?: AbortSignal;
  /**
   * Stop scheduling new work once the spend (USD, from each answer's usage) would pass this. With a model the
   * registry has no price for, `pricePerImageUsd` is required. @default unlimited
   */
  maxCostUsd?: number;
  /** USD per image for a model newer than the model registry (its price unknown to imagebatch). @default none (its cost is shown as unknown, with a warning) */
  pricePerImageUsd?: number;
  /** A reference image given as a URL larger than this fails its job (reading stops at the cap). @default 20 MB */
  maxReferenceBytes?: number;
  /**
   * Before the first request of each distinct model, GET models/{id} once (Vertex: the publisher model); a model
   * that answers 404 stops the run with ModelNotFoundError (the server's reason and the registry's replacement)
   * before anything is sent for it. An array input is checked whole before anything is sent; a stream, model by
   * model as it is read. Set false when the caller already checked (the CLI does, up front). @default true
   */
  preflight?: boolean;
  /** Receives progress events. */
  onEvent?: (event: RunEvent) => void;
  /** Injectable transport, for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Injectable clock, for tests. @default the system clock */
  clock?: Clock;
  /** Injectable randomness (jitter). @default Math.random */
  random?: () => number;
  /** Environment to read defaults from. @default process.env */
  env?: Record<string, string | undefined>;
  /**
   * Another service than the Gemini Developer API, e.g. `await vertexBackend({ project })` for Vertex AI; it brings
   * its own host and credentials (apiKey and baseUrl are then not used). @default the Gemini Developer API
   */
  backend?: Backend;
  /**
   * The cache's namespace instead of the endpoint: runs on two endpoints that name the same namespace (e.g. Vertex
   * AI and the Developer API, which serve the same models) share cached answers. @default the endpoint
   */
  cacheNamespace?: string;
  /**
   * Share the project's quota with other processes and machines through Redis: a redis:// or rediss:// URL, or
   * options (group, outage timeout, fallback). Rates, pauses, in-flight slots and the adaptive state become the
   * group's. @default env IMAGEBATCH_SHARED_QUOTA, else off (no Redis client is loaded)
   */
  sharedQuota?: string | SharedQuotaOptions;
}

/** Options of runToDisk(): a run's options plus the output folder's. */
export interface RunToDiskOptions extends GenerateOptions {
  /** Output folder. @default './imagebatch-out' */
  out?: string;
  /** Start over: remove what earlier runs wrote to this folder. @default false */
  fresh?: boolean;
  /** Re-run only the jobs whose last manifest line is a failure. @default false */
  retryFailed?: boolean;
  /** Cache folder, or false for no cache. @default env IMAGEBATCH_CACHE_DIR, then the user's cache folder */
  cacheDir?: string | false;
  /** How resume checks earlier images: 'sha256' re-hashes them, 'size' only stats them. @default 'sha256' */
  verify?: 'size' | 'sha256';
  /** Manifest durability: 'always' fsyncs each line; 'batch' fsyncs at most every 100 ms. @default 'batch' */
  fsync?: 'always' | 'batch';
  /** Write index.html at the end. @default true */
  gallery?: boolean;
  /** Called with each result after it is saved. */
  onResult?: (result: Result) => void;
  /** Jobs in the whole input, when known (a stopped run then reports "4 of 20", not "4 of the 5 read"). @default the jobs read */
  total?: number;
}

export type JobsSource = Iterable<JobInput> | AsyncIterable<JobInput>;

export interface ResolvedOptions {
  apiKey?: string;
  baseUrl?: string;
  model: string;
  concurrency: number;
  adaptive: boolean;
  requestsPerMinute?: number;
  imagesPerMinute?: number;
  quotaWindowMs: number;
  timeoutMs: number;
  maxAttempts: number;
  maxRetryDelayMs: number;
  aspectRatio?: string;
  imageSize?: string;
  ordered: boolean;
  signal?: AbortSignal;
  stopSignal?: AbortSignal;
  maxCostUsd?: number;
  pricePerImageUsd?: number;
  maxReferenceBytes?: number;
  preflight: boolean;
  onEvent: (event: RunEvent) => void;
  fetch?: typeof fetch;
  clock: Clock;
  random: () => number;
  env: Record<string, string | undefined>;
  backend?: Backend;
  cacheNamespace?: string;
  sharedQuota?: ResolvedSharedQuota;
}

function positiveInt(name: string, v: unknown, fallback: number): number {
  return optionalNumber(name, v, { integer: true, min: 1 }, fallback);
}

function positiveNumber(name: string, v: unknown): number | undefined {
  return optionalNumber(name, v, { above: 0 }, undefined);
}

function nonEmpty(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new OptionError(name, v, 'a non-empty string');
  return v;
}

const noop = (): void => {};

/** Does a cap of `maxCostUsd` on `model` lack a price to count with (see refuseUnpricedBudget)? */
export function capNeedsPrice(model: string, maxCostUsd: number | undefined, pricePerImageUsd: number | undefined): boolean {
  return maxCostUsd !== undefined && pricePerImageUsd === undefined && !knownModel(model);
}

/**
 * A budget over a price nobody knows could never stop (its answers cost "unknown", not $0): with a cap, a model the
 * registry has no price for needs the caller's pricePerImageUsd. Throws OptionError otherwise.
 */
export function refuseUnpricedBudget(model: string, maxCostUsd: number | undefined, pricePerImageUsd: number | undefined): void {
  if (!capNeedsPrice(model, maxCostUsd, pricePerImageUsd)) return;
  throw new OptionError('maxCostUsd', maxCostUsd, `a price for ${model}: the model registry has none (a model newer than this version?); give pricePerImageUsd`);
}

export function resolveOptions(o: GenerateOptions = {}): ResolvedOptions {
  const maxCost = o.maxCostUsd;
  if (maxCost !== undefined && (typeof maxCost !== 'number' || !Number.isFinite(maxCost) || maxCost < 0)) {
    throw new OptionError('maxCostUsd', maxCost, 'a number ≥ 0');
  }
  const pricePerImage = optionalNumber('pricePerImageUsd', o.pricePerImageUsd, { min: 0 }, undefined);
  const model = nonEmpty('model', o.model) ?? DEFAULTS.model;
  const quotaWindowMs = positiveNumber('quotaWindowMs', o.quotaWindowMs) ?? DEFAULTS.quotaWindowMs;
  refuseUnpricedBudget(model, maxCost, pricePerImage);
  if (o.imageSize !== undefined && !/^(1K|2K|4K|512)$/.test(o.imageSize)) {
    throw new OptionError('imageSize', o.imageSize, '"1K", "2K", "4K" or "512"');
  }
  if (o.aspectRatio !== undefined && !/^\d{1,2}:\d{1,2}$/.test(o.aspectRatio)) {
    throw new OptionError('aspectRatio', o.aspectRatio, 'a ratio such as "16:9"');
  }
  return {
    apiKey: o.apiKey,
    baseUrl: nonEmpty('baseUrl', o.baseUrl),
    model,
    concurrency: positiveInt('concurrency', o.concurrency, DEFAULTS.concurrency),
    adaptive: o.adaptive ?? DEFAULTS.adaptive,
    requestsPerMinute: positiveNumber('requestsPerMinute', o.requestsPerMinute),
    imagesPerMinute: positiveNumber('imagesPerMinute', o.imagesPerMinute),
    quotaWindowMs,
    timeoutMs: positiveNumber('timeoutMs', o.timeoutMs) ?? DEFAULTS.timeoutMs,
    maxAttempts: positiveInt('maxAttempts', o.maxAttempts, DEFAULTS.maxAttempts),
    maxRetryDelayMs: positiveNumber('maxRetryDelayMs', o.maxRetryDelayMs) ?? DEFAULTS.maxRetryDelayMs,
    maxReferenceBytes: o.maxReferenceBytes === undefined ? undefined : positiveInt('maxReferenceBytes', o.maxReferenceBytes, 1),
    aspectRatio: o.aspectRatio,
    imageSize: o.imageSize,
    ordered: o.ordered ?? DEFAULTS.ordered,
    preflight: o.preflight ?? DEFAULTS.preflight,
    signal: o.signal,
    stopSignal: o.stopSignal,
    maxCostUsd: maxCost,
    pricePerImageUsd: pricePerImage,
    onEvent: o.onEvent ?? noop,
    fetch: o.fetch,
    clock: o.clock ?? systemClock,
    random: o.random ?? Math.random,
    env: o.env ?? process.env,
    backend: o.backend,
    cacheNamespace: nonEmpty('cacheNamespace', o.cacheNamespace),
    sharedQuota: resolveSharedQuota(o.sharedQuota, o.env ?? process.env, quotaWindowMs),
  };
}
