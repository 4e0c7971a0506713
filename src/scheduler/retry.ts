// The ONE retry policy of the project: what to do after an attempt, as a pure function of its outcome.
// No clock and no state: the pool supplies the attempt count and randomness, so every branch is testable.

import type { ErrorOutcome, Outcome } from '../types.ts';
import { AuthError, ModelNotFoundError, OptionError, PermissionError, QuotaExhaustedError } from '../errors.ts';

export interface RetryPolicyOptions {
  /** Attempts per job, the first included; every kind of retry counts. @default 6 */
  maxAttempts: number;
  /** First backoff ceiling; the n-th retry waits random() × min(maxDelayMs, baseDelayMs × 2^(n-1)). @default 1000 */
  baseDelayMs: number;
  /** Backoff cap. @default 60_000 */
  maxDelayMs: number;
  /** Retries, with a reinforced prompt, of answers that came back without an image. @default 2 */
  noImageRetries: number;
  /** A server-announced delay longer than this ends the run instead of stalling it. @default 300_000 (5 min) */
  maxRetryDelayMs: number;
  /** Jitter added to a server-announced delay: up to this share of it... @default 0.1 */
  serverDelayJitterRatio: number;
  /** ...and never more than this, so clients woken by one RetryInfo do not all come back at once. @default 250 */
  serverDelayJitterMaxMs: number;
}

export const defaultRetryPolicy: Readonly<RetryPolicyOptions> = Object.freeze({
  maxAttempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  noImageRetries: 2,
  maxRetryDelayMs: 300_000,
  serverDelayJitterRatio: 0.1,
  serverDelayJitterMaxMs: 250,
});

export interface RetryContext {
  /** 1-based number of the attempt that produced the outcome. */
  attempt: number;
  /** no_image outcomes this job has had so far, the current one included. */
  noImageCount: number;
  /** Clock time now, used only to state when a quota resets (QuotaExhaustedError.resetAt). */
  now?: number;
}

export type Decision =
  | { action: 'done' }
  | { action: 'give_up' }
  | { action: 'retry'; delayMs: number; reinforce: boolean; serverDelay: boolean }
  | { action: 'stop_run'; error: Error };

/** Fills defaults and validates, naming the bad option. */
export function resolveRetryOptions(partial: Partial<RetryPolicyOptions> = {}): RetryPolicyOptions {
  const o: RetryPolicyOptions = { ...defaultRetryPolicy };
  for (const [k, v] of Object.entries(partial) as [keyof RetryPolicyOptions, number | undefined][]) if (v !== undefined) o[k] = v;
  const int = (name: keyof RetryPolicyOptions, min: number) => {
    if (!Number.isInteger(o[name]) || o[name] < min) throw new OptionError(`retry.${name}`, o[name], `an integer ≥ ${min}`);
  };
  const num = (name: keyof RetryPolicyOptions) => {
    if (!(o[name] >= 0) || !Number.isFinite(o[name])) throw new OptionError(`retry.${name}`, o[name], 'a finite number ≥ 0');
  };
  int('maxAttempts', 1);
  int('noImageRetries', 0);
  num('baseDelayMs');
  num('maxDelayMs');
  num('maxRetryDelayMs');
  num('serverDelayJitterRatio');
  num('serverDelayJitterMaxMs');
  return o;
}

/** Full-jitter exponential backoff for the retry after failed attempt `attempt` (1-based). */
export function backoffDelayMs(attempt: number, o: Pick<RetryPolicyOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** A server-announced delay plus a little jitter (≤ ratio of it and ≤ the max). */
export function serverDelayMs(retryAfterMs: number, o: Pick<RetryPolicyOptions, 'serverDelayJitterRatio' | 'serverDelayJitterMaxMs'>, random: () => number): number {
  const jitter = Math.min(retryAfterMs * o.serverDelayJitterRatio, o.serverDelayJitterMaxMs);
  return Math.max(0, Math.round(retryAfterMs + random() * jitter));
}

const RETRYABLE = new Set<string>(['quota', 'server', 'network', 'timeout']);

/** Errors that say "try again later": the ones the retry budget and the outage detector care about. */
export function isTransientError(o: Outcome): o is ErrorOutcome {
  return o.kind === 'error' && RETRYABLE.has(o.reason);
}

export function decide(outcome: Outcome, ctx: RetryContext, options: RetryPolicyOptions, random: () => number): Decision {
  const last = ctx.attempt >= options.maxAttempts;
  switch (outcome.kind) {
    case 'image':
      return { action: 'done' };
    case 'blocked':
      return { action: 'give_up' };
    case 'no_image':
      if (last || ctx.noImageCount > options.noImageRetries) return { action: 'give_up' };
      return { action: 'retry', delayMs: 0, reinforce: true, serverDelay: false };
    case 'error':
      break;
  }
  const stop = runLevelError(outcome, ctx, options);
  if (stop) return { action: 'stop_run', error: stop };
  if (!RETRYABLE.has(outcome.reason) || last) return { action: 'give_up' };
  // Once the model answered without an image, every later attempt of this job keeps the reinforcement.
  const reinforce = ctx.noImageCount > 0;
  if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs >= 0) {
    return { action: 'retry', delayMs: serverDelayMs(outcome.retryAfterMs, options, random), reinforce, serverDelay: true };
  }
  return { action: 'retry', delayMs: backoffDelayMs(ctx.attempt, options, random), reinforce, serverDelay: false };
}

function runLevelError(o: ErrorOutcome, ctx: RetryContext, options: RetryPolicyOptions): Error | undefined {
  switch (o.reason) {
    case 'auth':
      return new AuthError(`the API key was rejected: ${o.message}`, { httpStatus: o.httpStatus, errorReason: o.errorReason });
    case 'permission':
      return new PermissionError(`permission denied: ${o.message}`);
    case 'not_found':
      return new ModelNotFoundError(modelFrom(o.message), `model not found: ${o.message}`);
    case 'quota':
      return quotaExhausted(o, ctx, options);
    default:
      return undefined;
  }
}

function quotaExhausted(o: ErrorOutcome, ctx: RetryContext, options: RetryPolicyOptions): QuotaExhaustedError | undefined {
  const perDay = o.quotaId !== undefined && /PerDay/i.test(o.quotaId);
  const zero = o.quotaLimit === 0;
  const tooLong = o.retryAfterMs !== undefined && o.retryAfterMs > options.maxRetryDelayMs;
  if (!perDay && !zero && !tooLong) return undefined;
  const name = o.quotaId ?? o.quotaMetric ?? 'the request quota';
  const why = zero
    ? `has a limit of 0 for this project (no access on this tier)`
    : perDay
      ? `is exhausted for today${o.quotaLimit !== undefined ? ` (limit ${o.quotaLimit})` : ''}`
      : `is exhausted${o.quotaLimit !== undefined ? ` (limit ${o.quotaLimit})` : ''}`;
  const when = o.retryAfterMs !== undefined ? `; it resets in ${humanMs(o.retryAfterMs)}` : perDay ? '; daily quotas reset at midnight Pacific time' : '';
  return new QuotaExhaustedError(`quota ${name} ${why}${when}`, {
    quotaId: o.quotaId,
    quotaLimit: o.quotaLimit,
    retryAfterMs: o.retryAfterMs,
    resetAt: o.retryAfterMs !== undefined && ctx.now !== undefined ? ctx.now + o.retryAfterMs : undefined,
  });
}

/** "models/foo is not found..." → "foo"; the transport's message is the only place the model is named. */
function modelFrom(message: string): string {
  const m = /models\/([\w.-]+)/.exec(message);
  return m?.[1] ?? 'unknown';
}

/** 7h 12m, 4m 5s, 37s, 250ms: for messages a person reads. */
export function humanMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return sec > 0 ? `${m}m ${sec}s` : `${m}m`;
  return `${sec}s`;
}
