// The ONE retry policy of the project: what to do after an attempt, as a pure function of its outcome.
// No clock and no state: the pool supplies the attempt count and randomness, so every branch is testable.

import type { ErrorOutcome, Outcome, QuotaViolationInfo } from '../types.ts';
import { AuthError, BillingError, ModelNotFoundError, PermissionError, QuotaExhaustedError } from '../errors.ts';
import { checkNumber } from '../internal/check.ts';
import { explainUnavailable } from '../models/index.ts';

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
  /**
   * Per-day quota ids that an earlier 429 of this run listed and whose announced wait had passed when this
   * attempt started: seeing one again means the wait did not help, so the day's quota is really gone.
   * @default none
   */
  waitedOut?: ReadonlySet<string>;
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
  const int = (name: keyof RetryPolicyOptions, min: number) => checkNumber(`retry.${name}`, o[name], { integer: true, min });
  const num = (name: keyof RetryPolicyOptions) => checkNumber(`retry.${name}`, o[name], { min: 0 });
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

type JitterOptions = Pick<RetryPolicyOptions, 'serverDelayJitterRatio' | 'serverDelayJitterMaxMs'>;

/** A planned delay plus a little jitter (≤ ratio of it and ≤ the max), so clients told the same wait spread out. */
function withJitter(ms: number, o: JitterOptions, random: () => number): number {
  return ms + random() * Math.min(ms * o.serverDelayJitterRatio, o.serverDelayJitterMaxMs);
}

/** A server-announced delay plus a little jitter (≤ ratio of it and ≤ the max). */
export function serverDelayMs(retryAfterMs: number, o: JitterOptions, random: () => number): number {
  return Math.max(0, Math.round(withJitter(retryAfterMs, o, random)));
}

/**
 * The wait before the next poll of a slow remote job (a batch): the planned interval, or a longer delay the server
 * announced after a failed poll, plus the same small jitter as a server-announced retry, so many waiting clients do
 * not poll in step.
 */
export function pollDelayMs(intervalMs: number, retryAfterMs: number | undefined, random: () => number, o: JitterOptions = defaultRetryPolicy): number {
  return withJitter(Math.max(intervalMs, retryAfterMs ?? 0), o, random);
}

const RETRYABLE = new Set<string>(['quota', 'server', 'network', 'timeout']);

/**
 * A failed call worth trying again later, by the same reasons the pool retries. Without a reason (a call the
 * transport could not classify), a missing answer (status 0) or a 5xx counts.
 */
export function isTransientFailure(f: { reason?: string; httpStatus?: number }): boolean {
  return f.reason === undefined ? f.httpStatus === 0 || (f.httpStatus ?? 0) >= 500 : RETRYABLE.has(f.reason);
}

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
      // A backend's advice means its credentials are not an API key (Vertex: tokens from ADC).
      if (o.advice !== undefined) return new AuthError(`the credentials were rejected: ${o.message} — ${o.advice}`, { httpStatus: o.httpStatus, errorReason: o.errorReason });
      return new AuthError(`the API key was rejected: ${o.message}`, { httpStatus: o.httpStatus, errorReason: o.errorReason });
    case 'permission':
      return permissionDenied(o);
    case 'not_found': {
      const why = explainUnavailable(modelFrom(o.message), o.message);
      const message = `model not available: ${why.text} (server: ${o.message})${o.advice ? ` — ${o.advice}` : ''}`;
      return new ModelNotFoundError(why.model, message, { reason: why.reason, ...(why.replacement ? { replacement: why.replacement } : {}) });
    }
    case 'billing':
      return billing(o, `${o.message}`);
    case 'quota':
      return quotaExhausted(o, ctx, options);
    default:
      return undefined;
  }
}

const AI_STUDIO_BILLING = 'https://aistudio.google.com/usage (plan and billing of the key\'s project)';

function billing(o: ErrorOutcome, what: string): BillingError {
  return new BillingError(`billing, not rate: ${what}; no wait will fix this: check the project's credits, spending cap and plan at ${AI_STUDIO_BILLING}`, {
    httpStatus: o.httpStatus,
    quotaId: o.quotaId,
  });
}

function permissionDenied(o: ErrorOutcome): PermissionError {
  const fields = { errorReason: o.errorReason, activationUrl: o.activationUrl };
  if (o.errorReason === 'SERVICE_DISABLED') {
    const where = o.activationUrl ? `enable it at ${o.activationUrl}` : 'enable it in the Google Cloud console';
    // The activation page names the service: generativelanguage (Developer API) or aiplatform (Vertex AI).
    const service = /\/apis\/api\/([^/?#]+)/.exec(o.activationUrl ?? '')?.[1] ?? 'generativelanguage.googleapis.com';
    const api = service.startsWith('aiplatform') ? 'the Vertex AI API' : 'the Gemini API';
    return new PermissionError(`${api} (${service}) is not enabled on the project: ${where}${o.advice ? ` or ${o.advice}` : ''}, wait a few minutes, then run again`, fields);
  }
  return new PermissionError(`permission denied: ${o.message}${o.advice ? ` — ${o.advice}` : ''}`, fields);
}

const isPerDay = (v: QuotaViolationInfo) => v.quotaId !== undefined && /PerDay/i.test(v.quotaId);

/**
 * A 429 read whole. Billing (a quota of 0) and a wait longer than maxRetryDelayMs stop the run. Per-day
 * violations stop it only when they are all the 429 lists, or when one comes back after its wait was served;
 * listed next to per-minute ones with a short RetryInfo, the 429 is a pause.
 */
function quotaExhausted(o: ErrorOutcome, ctx: RetryContext, options: RetryPolicyOptions): Error | undefined {
  // Outcomes built by hand (or older callers) may carry only the summary fields.
  const violations: QuotaViolationInfo[] = o.violations ?? (o.quotaId !== undefined ? [{ quotaId: o.quotaId, quotaMetric: o.quotaMetric, quotaLimit: o.quotaLimit }] : []);
  const zero = o.quotaLimit === 0 || violations.some((v) => v.quotaLimit === 0);
  if (zero) {
    const v = violations.find((x) => x.quotaLimit === 0) ?? { quotaId: o.quotaId, quotaMetric: o.quotaMetric };
    return billing(o, `quota ${v.quotaId ?? v.quotaMetric ?? 'of this model'} has a limit of 0 for this project (no access on its tier)`);
  }
  const daily = violations.filter(isPerDay);
  const onlyDaily = daily.length > 0 && daily.length === violations.length;
  const cameBack = daily.find((v) => ctx.waitedOut?.has(v.quotaId!));
  const tooLong = o.retryAfterMs !== undefined && o.retryAfterMs > options.maxRetryDelayMs;
  if (!onlyDaily && !cameBack && !tooLong) return undefined;
  const stopOn = cameBack ?? daily[0];
  const name = stopOn?.quotaId ?? o.quotaId ?? o.quotaMetric ?? 'the request quota';
  const limit = stopOn?.quotaLimit ?? o.quotaLimit;
  const why = stopOn
    ? `is exhausted for today${limit !== undefined ? ` (limit ${limit})` : ''}${cameBack ? ', still after the announced wait' : ''}`
    : `is exhausted${limit !== undefined ? ` (limit ${limit})` : ''}`;
  // A short RetryInfo next to a per-day violation is about the per-minute window, not the day.
  const when = stopOn
    ? tooLong && o.retryAfterMs !== undefined
      ? `; it resets in ${humanMs(o.retryAfterMs)}`
      : '; daily quotas reset at midnight Pacific time'
    : o.retryAfterMs !== undefined
      ? `; it resets in ${humanMs(o.retryAfterMs)}`
      : '';
  return new QuotaExhaustedError(`quota ${name} ${why}${when}`, {
    quotaId: stopOn?.quotaId ?? o.quotaId,
    quotaLimit: limit,
    retryAfterMs: o.retryAfterMs,
    resetAt: o.retryAfterMs !== undefined && ctx.now !== undefined && (tooLong || !stopOn) ? ctx.now + o.retryAfterMs : undefined,
  });
}

/** Per-day quota ids a retryable 429 lists: the engine remembers them to recognise a per-day violation that comes back. */
export function perDayQuotaIds(o: Outcome): string[] {
  if (o.kind !== 'error' || o.reason !== 'quota') return [];
  const violations = o.violations ?? (o.quotaId !== undefined ? [{ quotaId: o.quotaId }] : []);
  return violations.filter(isPerDay).map((v) => v.quotaId!);
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
