// Preflight: before the first generateContent of a run, GET models/{id} once per distinct model of the input, so
// a retired, closed or mistyped model stops the run before anything is paid (not after `concurrency` requests,
// and not halfway through a file whose line 900 names another model). Transient failures are retried by the one
// retry policy's rules (which answers retry, and its backoff); everything else surfaces as the run would see it.
import { ApiError, AuthError, ModelNotFoundError, PermissionError } from './errors.ts';
import type { GeminiClient } from './gemini/client.ts';
import { getModel } from './gemini/models.ts';
import type { ModelResource } from './gemini/wire.ts';
import { abortableSleep } from './internal/clock.ts';
import { bareModelId, explainUnavailable } from './models/index.ts';
import { backoffDelayMs, decide, resolveRetryOptions } from './scheduler/retry.ts';
import type { RetryPolicyOptions } from './scheduler/retry.ts';
import type { JobsSource } from './options.ts';
import type { ErrorOutcome, JobInput } from './types.ts';

export interface PreflightOptions {
  /** @default none */
  signal?: AbortSignal;
  /** The run's retry policy (attempts and backoff for transient failures). @default defaultRetryPolicy */
  retry?: Partial<RetryPolicyOptions>;
  /** Waits between attempts. @default a real sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default Math.random */
  random?: () => number;
}

/**
 * Checks every distinct model once. Resolves with what the server said about each; throws ModelNotFoundError
 * (reason: shut_down | closed_to_new_users | not_found, plus the registry's replacement) for the first one that
 * answers 404, or the run-level error (bad key, billing…) the one retry policy makes of any other failure.
 */
export async function preflightModels(client: GeminiClient, models: Iterable<string>, options: PreflightOptions = {}): Promise<Map<string, ModelResource>> {
  const check = new ModelCheck(client, options);
  const seen = new Map<string, ModelResource>();
  for (const model of models) seen.set(bareModelId(model), await check.check(model));
  return seen;
}

/**
 * A run's model check, for inputs read lazily: one GET per distinct model, made before that model's first request.
 * Every job of a model waits on the same promise, so a model is asked once however many jobs name it, and a 404
 * rejects them all with the same ModelNotFoundError.
 */
export class ModelCheck {
  readonly #asked = new Map<string, Promise<ModelResource>>();

  constructor(
    private readonly client: GeminiClient,
    private readonly options: PreflightOptions = {},
  ) {}

  /** Resolves once `model` answered models.get (at most one request per model, whoever asks). */
  check(model: string): Promise<ModelResource> {
    const id = bareModelId(model);
    let answer = this.#asked.get(id);
    if (!answer) {
      answer = checkOne(this.client, model, this.options);
      this.#asked.set(id, answer);
    }
    return answer;
  }
}

/**
 * The distinct models of an input that can be read twice (an array), in input order, or undefined for a stream or
 * a generator, whose models are only known as it is read.
 */
export function modelsOfInput(jobs: JobsSource, fallback: string): string[] | undefined {
  if (!Array.isArray(jobs)) return undefined;
  const models = new Map<string, string>();
  for (const input of jobs as readonly JobInput[]) {
    const model = (typeof input === 'string' ? undefined : input.model) ?? fallback;
    if (!models.has(bareModelId(model))) models.set(bareModelId(model), model);
  }
  return [...models.values()];
}

async function checkOne(client: GeminiClient, model: string, options: PreflightOptions): Promise<ModelResource> {
  const policy = resolveRetryOptions(options.retry);
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await getModel(client, model, options.signal ? { signal: options.signal } : {});
    } catch (e) {
      const outcome = outcomeOf(e);
      if (!outcome) throw e;
      if (outcome.httpStatus === 404) {
        const why = explainUnavailable(model, outcome.message);
        throw new ModelNotFoundError(why.model, `${why.text} (server: ${outcome.message})`, { reason: why.reason, ...(why.replacement ? { replacement: why.replacement } : {}) });
      }
      const d = decide(outcome, { attempt, noImageCount: 0 }, policy, random);
      if (d.action === 'stop_run') throw d.error;
      if (d.action !== 'retry') throw e;
      await sleep(d.delayMs || backoffDelayMs(attempt, policy, random), options.signal);
    }
  }
}

/** The client's thrown errors back into the outcome the one retry policy reads (so a bad key reads as in a run). */
function outcomeOf(e: unknown): ErrorOutcome | undefined {
  if (e instanceof AuthError) return { kind: 'error', reason: 'auth', message: e.message, ...(e.httpStatus ? { httpStatus: e.httpStatus } : {}), ...(e.errorReason ? { errorReason: e.errorReason } : {}) };
  if (e instanceof PermissionError) {
    return { kind: 'error', reason: 'permission', httpStatus: 403, message: e.message, ...(e.errorReason ? { errorReason: e.errorReason } : {}), ...(e.activationUrl ? { activationUrl: e.activationUrl } : {}) };
  }
  if (!(e instanceof ApiError)) return undefined;
  return {
    kind: 'error',
    reason: e.reason ?? 'server',
    httpStatus: e.httpStatus,
    message: e.message,
    ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
    ...(e.quotaId ? { quotaId: e.quotaId } : {}),
  };
}
