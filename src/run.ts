// Composition: jobs → cache check → scheduler (retry policy, limits) → transport → results.
// generateImages() keeps nothing on disk; runToDisk() (run-disk.ts) adds the output folder, manifest and resume.
import { GeminiClient, resolveBaseUrl } from './gemini/client.ts';
import { buildRequest } from './gemini/request.ts';
import { loadReferences } from './input/refs.ts';
import { ReferenceFetchError, RemoteRefs } from './input/remote-ref.ts';
import { Channel, mergeWithChannel } from './internal/merge.ts';
import { InputOrder } from './internal/order.ts';
import type { GenerateOptions, JobsSource, ResolvedOptions } from './options.ts';
import { refuseUnpricedBudget, resolveOptions } from './options.ts';
import { BudgetExceededError } from './errors.ts';
import { normaliseJobs } from './core/job.ts';
import { costOf, estimateOf } from './core/price.ts';
import { resultOf } from './core/result.ts';
import { runPool } from './scheduler/index.ts';
import type { PoolEvent } from './scheduler/index.ts';
import { ImageCache } from './storage/cache.ts';
import { SpendBudget } from './stream/budget.ts';
import { knownModel } from './report/cost.ts';
import { ModelCheck, modelsOfInput } from './preflight.ts';
import { RunCache } from './stream/cache.ts';
import type { ImageData, Job, Result, RunEvent } from './types.ts';

export interface GenerateImagesOptions extends GenerateOptions {
  /** Content-addressed cache: hits are served without a request, answers are stored. @default none */
  cache?: ImageCache;
  /** Jobs to pass over without a request (resume): return 'done' to skip. @default none */
  skip?: (job: Job) => 'done' | undefined;
}

function toRunEvent(e: PoolEvent<Job>): RunEvent | undefined {
  switch (e.type) {
    case 'started':
      return { type: 'started', key: e.job.key, index: e.job.index, attempt: e.attempt, at: e.at };
    case 'retried':
      return { type: 'retried', key: e.job.key, index: e.job.index, attempt: e.attempt, reason: e.reason, delayMs: e.delayMs, at: e.at };
    case 'paused':
      return { type: 'paused', untilMs: e.untilMs, reason: e.reason, quotaId: e.quotaId, at: e.at };
    case 'resumed':
      return { type: 'resumed', at: e.at };
    case 'concurrency':
      return { type: 'concurrency', limit: e.limit, inFlight: e.inFlight, at: e.at };
    default:
      return undefined;
  }
}

/**
 * The cache key of a job: the endpoint, the full request (model, prompt, generation and image config), reference
 * hashes, variant. `baseUrl` is resolved as GeminiClient resolves it (env, then Google's), so each server — Google,
 * an emulator, any other base URL — has its own namespace.
 */
export function cacheKeyOf(
  job: Job,
  run: { model: string; aspectRatio?: string; imageSize?: string; baseUrl?: string; env?: Record<string, string | undefined>; endpoint?: string },
): string {
  // Reference images enter through their hashes (already in the job), not their bytes.
  const request = buildRequest(job, { aspectRatio: run.aspectRatio, imageSize: run.imageSize, references: [] });
  return ImageCache.keyFor(run.endpoint ?? resolveBaseUrl(run.baseUrl, run.env), job.model ?? run.model, { request, references: job.images?.map((r) => r.sha256 ?? r.path) }, job.variant);
}

/**
 * Generates one image per job, many requests at once, and yields each Result as it completes.
 * `jobs` is read lazily. The iterable is single-use; breaking out of it cancels queued and in-flight work.
 * Run-level failures (bad key, unknown model, exhausted daily quota) throw from the iterator after in-flight work settles.
 */
export function generateImages(jobs: JobsSource, options: GenerateImagesOptions = {}): AsyncIterable<Result> {
  const o = resolveOptions(options);
  // Validate the key and base URL now, before the caller starts iterating.
  return run(jobs, o, clientOf(o), options.cache, options.skip);
}

function clientOf(o: ResolvedOptions): GeminiClient {
  return new GeminiClient({ apiKey: o.apiKey, baseUrl: o.baseUrl, fetch: o.fetch, timeoutMs: o.timeoutMs, env: o.env, backend: o.backend });
}

/** The run's model check: its retry policy, randomness and clock, stopped by `signal`. */
function modelCheckOf(client: GeminiClient, o: ResolvedOptions, signal: AbortSignal | undefined): ModelCheck {
  return new ModelCheck(client, { signal, retry: { maxAttempts: o.maxAttempts, maxRetryDelayMs: o.maxRetryDelayMs }, random: o.random, sleep: (ms, s) => o.clock.sleep(ms, s) });
}

/**
 * The checks of an input that can be read twice (an array), for a caller that wants them done before it touches
 * the disk (runToDisk): a budget refuses models without a price (OptionError), and every distinct model answers
 * models.get, or this throws ModelNotFoundError. Resolves false (nothing asked) for a stream, whose models
 * generateImages checks as it reads them, or when `preflight` is false.
 */
export async function preflightArray(jobs: JobsSource, options: GenerateOptions): Promise<boolean> {
  const o = resolveOptions(options);
  const all = modelsOfInput(jobs, o.model);
  for (const model of all ?? []) refuseUnpricedBudget(model, o.maxCostUsd, o.pricePerImageUsd);
  const models = o.preflight ? all : undefined;
  // A run stopped before it starts sends nothing: no need to ask, and the stop is the caller's to report.
  const stopped = () => o.signal?.aborted === true || o.stopSignal?.aborted === true;
  if (!models || stopped()) return false;
  const check = modelCheckOf(clientOf(o), o, AbortSignal.any([o.signal, o.stopSignal].filter((s): s is AbortSignal => s !== undefined)));
  try {
    for (const model of models) await check.check(model);
  } catch (err) {
    if (stopped()) return false;
    throw err;
  }
  return true;
}

async function* run(jobs: JobsSource, o: ResolvedOptions, client: GeminiClient, cache: ImageCache | undefined, skip: GenerateImagesOptions['skip']): AsyncGenerator<Result> {
  // A shared quota takes over the rates, the adaptive limit and the learner (group-wide, in Redis); the pool keeps
  // this process's ceiling, retries and pauses.
  const quota = o.sharedQuota && (await import('./quota/index.ts')).openSharedQuota<Job>({
    shared: o.sharedQuota,
    baseUrl: client.baseUrl,
    keyHash: client.keyHash,
    modelOf: (job) => job.model ?? o.model,
    requestsPerMinute: o.requestsPerMinute,
    imagesPerMinute: o.imagesPerMinute,
    concurrency: o.concurrency,
    adaptive: o.adaptive,
    learnRate: true,
    leaseTtlMs: o.timeoutMs + 30_000,
    clock: o.clock,
    random: o.random,
    warn: (message) => o.onEvent({ type: 'warning', message, at: o.clock.now() }),
  });
  const coordinator = quota ? await quota : undefined;
  const hard = new AbortController();
  const onAbort = () => hard.abort(o.signal?.reason);
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const side = new Channel<Result>(16);
  const order = o.ordered ? new InputOrder<Result>() : undefined;
  const seqOf = new WeakMap<Job, number>();
  // Reference URLs: downloaded once per run, under the per-attempt deadline and the size cap.
  const remote = new RemoteRefs({ fetch: o.fetch, maxBytes: o.maxReferenceBytes, timeoutMs: o.timeoutMs });
  const modelOf = (job: Job) => job.model ?? o.model;
  const requestOf = (job: Job, reinforce: boolean, references: ImageData[]) =>
    buildRequest(job, { reinforce, aspectRatio: o.aspectRatio, imageSize: o.imageSize, references });
  const budget = new SpendBudget(o.maxCostUsd, (job, requests) => estimateOf(modelOf(job), requests, job.imageSize ?? o.imageSize, o.pricePerImageUsd));
  // A model newer than the registry runs as asked; the caller hears once that nothing about it is known here.
  const unpriced = new Set<string>();
  const noteModel = (model: string) => {
    if (knownModel(model) || unpriced.has(model)) return;
    // A job's own model too (resolveOptions checked the run's): refused before anything is sent for it.
    refuseUnpricedBudget(model, o.maxCostUsd, o.pricePerImageUsd);
    unpriced.add(model);
    const price = o.pricePerImageUsd === undefined ? 'its cost is unknown (shown as unknown, not $0; give pricePerImageUsd / --price-per-image to count it)' : `its cost is counted at the given $${o.pricePerImageUsd} per image`;
    o.onEvent({ type: 'warning', message: `model ${model} is not in imagebatch's model registry: requests go through unchanged, its sizes and ratios are not checked, and ${price}`, at: o.clock.now() });
  };
  // Preflight: every model answers models.get (Vertex: the publisher model) before its first request, so a retired
  // or mistyped model stops the run (ModelNotFoundError, thrown from the iterator) before anything is sent for it.
  // An array is checked whole before anything starts; a stream model by model as it is read.
  const modelCheck = o.preflight ? modelCheckOf(client, o, hard.signal) : undefined;
  const upfront = modelsOfInput(jobs, o.model) ?? [];
  // Vertex answers live in their own namespace (service, project, location) unless the caller names a shared one.
  const endpoint = o.cacheNamespace ?? (client.backendKind === 'vertex' ? client.endpointId : undefined);
  const runCache = new RunCache(cache, (job) => cacheKeyOf(job, { ...o, baseUrl: client.baseUrl, endpoint }), (message) =>
    o.onEvent({ type: 'warning', message, at: o.clock.now() }),
  );

  // Resume and cache hits are answered here, before the scheduler, so they cost neither a request nor a rate token.
  // A generator closed before its first next() never runs its finally: see fromPool.
  let admitting = false;
  async function* admitted(): AsyncGenerator<Job> {
    admitting = true;
    try {
      for (const model of upfront) noteModel(model);
      if (modelCheck) for (const model of upfront) await modelCheck.check(model);
      let seq = 0;
      for await (const job of normaliseJobs(jobs, o.model, remote)) {
        seqOf.set(job, seq++);
        noteModel(modelOf(job));
        if (skip?.(job) === 'done') {
          order?.skip(seqOf.get(job)!);
          o.onEvent({ type: 'skipped', key: job.key, index: job.index, why: 'done', at: o.clock.now() });
          continue;
        }
        const hit = await runCache.lookup(job, modelOf(job));
        if (hit) {
          await side.push(hit);
          continue;
        }
        await modelCheck?.check(modelOf(job));
        yield job;
      }
    } finally {
      side.close();
    }
  }

  const pool = runPool<Job>(admitted(), {
    concurrency: o.concurrency,
    adaptive: coordinator ? false : o.adaptive,
    requestsPerMinute: coordinator ? undefined : o.requestsPerMinute,
    imagesPerMinute: coordinator ? undefined : o.imagesPerMinute,
    learnRate: !coordinator,
    quotaWindowMs: o.quotaWindowMs,
    coordinator,
    retry: { maxAttempts: o.maxAttempts, maxRetryDelayMs: o.maxRetryDelayMs },
    ordered: o.ordered,
    clock: o.clock,
    random: o.random,
    signal: hard.signal,
    stopSignal: o.stopSignal,
    canStart: o.maxCostUsd === undefined ? undefined : (job) => budget.canStart(job),
    onEvent: (e) => {
      const ev = toRunEvent(e);
      if (ev) o.onEvent(ev);
    },
    attempt: async (job, ctx) => {
      budget.started();
      try {
        let references: ImageData[];
        try {
          references = await loadReferences(job, remote, ctx.signal);
        } catch (err) {
          if (ctx.signal.aborted) return { kind: 'error', reason: 'cancelled', message: 'cancelled by the caller' };
          // An image host's 5xx, reset or timeout is transient: the retry policy retries it like the API's own.
          const reason = err instanceof ReferenceFetchError ? err.reason : 'invalid_request';
          return { kind: 'error', reason, message: err instanceof Error ? err.message : String(err) };
        }
        const outcome = await client.generateContent(modelOf(job), requestOf(job, ctx.reinforce, references), { signal: ctx.signal, timeoutMs: o.timeoutMs });
        budget.charge(job, costOf(outcome, modelOf(job), 'api', o.pricePerImageUsd));
        return outcome;
      } finally {
        budget.finished();
      }
    },
  });

  async function* fromPool(): AsyncGenerator<Result> {
    try {
      yield* settledResults();
    } finally {
      // A pool that never asked for a job (the caller had aborted already) left admitted() unstarted: nothing will
      // close the side channel, and the merge would wait for it forever.
      if (!admitting) side.close();
    }
  }

  async function* settledResults(): AsyncGenerator<Result> {
    for await (const s of pool) {
      const result = resultOf(s.job, s.outcome, { model: modelOf(s.job), attempts: s.attempts, latencyMs: s.latencyMs, mode: 'api', pricePerImageUsd: o.pricePerImageUsd });
      if (client.backendKind === 'vertex') result.backend = 'vertex';
      // A job's cost is every answer it was billed for (a text-only answer before the image too), as the budget counts it.
      const total = budget.billedFor(s.job);
      if (total === null) delete result.costUsd;
      else if (total !== undefined) result.costUsd = total;
      yield result;
    }
  }

  try {
    for await (const result of mergeWithChannel(fromPool(), side, () => hard.abort())) {
      await runCache.store(result);
      if (order) yield* order.accept(seqOf.get(result.job)!, result);
      else yield result;
    }
  } catch (err) {
    // A run-level failure still hands over every result that arrived (held only for its place in line).
    if (order) yield* order.flush();
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await coordinator?.close();
  }
  // A stopped run leaves gaps (jobs never started, retries dropped): release what waits behind them.
  if (order) yield* order.flush();
  if (budget.stopped) throw new BudgetExceededError(budget.spentUsd, o.maxCostUsd!);
}
