// Composition: jobs → cache check → scheduler (retry policy, limits) → transport → results.
// generateImages() keeps nothing on disk; runToDisk() (run-disk.ts) adds the output folder, manifest and resume.
import { GeminiClient, resolveBaseUrl } from './gemini/client.ts';
import { buildRequest } from './gemini/request.ts';
import { loadReferences } from './input/refs.ts';
import { ReferenceFetchError, RemoteRefs } from './input/remote-ref.ts';
import { Channel, mergeWithChannel } from './internal/merge.ts';
import { InputOrder } from './internal/order.ts';
import type { GenerateOptions, JobsSource, ResolvedOptions } from './options.ts';
import { resolveOptions } from './options.ts';
import { BudgetExceededError } from './errors.ts';
import { normaliseJobs } from './core/job.ts';
import { costOf, estimateOf } from './core/price.ts';
import { resultOf } from './core/result.ts';
import { runPool } from './scheduler/index.ts';
import type { PoolEvent } from './scheduler/index.ts';
import { CacheMismatchError, ImageCache } from './storage/cache.ts';
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
  const client = new GeminiClient({ apiKey: o.apiKey, baseUrl: o.baseUrl, fetch: o.fetch, timeoutMs: o.timeoutMs, env: o.env, backend: o.backend });
  return run(jobs, o, client, options.cache, options.skip);
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
  const billed = new WeakMap<Job, number>();
  let spentUsd = 0;
  // Reference URLs: downloaded once per run, under the per-attempt deadline and the size cap.
  const remote = new RemoteRefs({ fetch: o.fetch, maxBytes: o.maxReferenceBytes, timeoutMs: o.timeoutMs });
  let inFlight = 0;
  let stoppedByBudget = false;
  // Would one more request (on top of those in flight) pass the budget? Unknown prices count as 0.
  const withinBudget = (job: Job): boolean => {
    const next = estimateOf(modelOf(job), inFlight + 1, job.imageSize ?? o.imageSize);
    if (spentUsd + next <= o.maxCostUsd!) return true;
    stoppedByBudget = true;
    return false;
  };
  const modelOf = (job: Job) => job.model ?? o.model;
  const requestOf = (job: Job, reinforce: boolean, references: ImageData[]) =>
    buildRequest(job, { reinforce, aspectRatio: o.aspectRatio, imageSize: o.imageSize, references });

  // Resume and cache hits are answered here, before the scheduler, so they cost neither a request nor a rate token.
  async function* admitted(): AsyncGenerator<Job> {
    try {
      let seq = 0;
      for await (const job of normaliseJobs(jobs, o.model, remote)) {
        seqOf.set(job, seq++);
        if (skip?.(job) === 'done') {
          order?.skip(seqOf.get(job)!);
          o.onEvent({ type: 'skipped', key: job.key, index: job.index, why: 'done', at: o.clock.now() });
          continue;
        }
        const hit = await cached(job);
        if (hit) {
          await side.push(hit);
          continue;
        }
        yield job;
      }
    } finally {
      side.close();
    }
  }

  // Vertex answers live in their own namespace (service, project, location) unless the caller names a shared one.
  const endpoint = o.cacheNamespace ?? (client.backendKind === 'vertex' ? client.endpointId : undefined);
  const cacheKey = (job: Job): string => cacheKeyOf(job, { ...o, baseUrl: client.baseUrl, endpoint });
  // The cache saves money but is never worth a run: when it fails (unwritable folder, a blob gone between lookup
  // and read) the run says so once and goes on without it.
  let cacheOk = cache !== undefined;
  let cacheMismatchWarned = false;
  const cacheFailed = (err: unknown) => {
    if (!cacheOk) return;
    cacheOk = false;
    o.onEvent({ type: 'warning', message: `cache disabled for this run: ${err instanceof Error ? err.message : String(err)}`, at: o.clock.now() });
  };
  async function cached(job: Job): Promise<Result | undefined> {
    if (!cache || !cacheOk) return undefined;
    try {
      const hit = await cache.get(cacheKey(job));
      if (!hit) return undefined;
      const images = await Promise.all(
        hit.images.map(async (img) => ({ mimeType: img.mimeType, data: await cache.read(img.sha256), bytes: img.bytes, sha256: img.sha256 })),
      );
      return { status: 'succeeded', job, model: modelOf(job), attempts: 0, latencyMs: 0, images, text: hit.text, usage: hit.usage, costUsd: 0, from: 'cache', modelVersion: hit.modelVersion };
    } catch (err) {
      if (!(err instanceof CacheMismatchError)) {
        cacheFailed(err);
        return undefined;
      }
      // A tampered or decayed blob: never serve it; forget the entry and pay for the job like a miss.
      await cache.drop(cacheKey(job));
      if (!cacheMismatchWarned) {
        cacheMismatchWarned = true;
        o.onEvent({ type: 'warning', message: `${err.message}: entry dropped, the job is requested again (any further mismatch is handled the same way, without a warning)`, at: o.clock.now() });
      }
      return undefined;
    }
  }

  const pool = runPool<Job>(admitted(), {
    concurrency: o.concurrency,
    adaptive: coordinator ? false : o.adaptive,
    requestsPerMinute: coordinator ? undefined : o.requestsPerMinute,
    imagesPerMinute: coordinator ? undefined : o.imagesPerMinute,
    learnRate: !coordinator,
    coordinator,
    retry: { maxAttempts: o.maxAttempts, maxRetryDelayMs: o.maxRetryDelayMs },
    ordered: o.ordered,
    clock: o.clock,
    random: o.random,
    signal: hard.signal,
    stopSignal: o.stopSignal,
    canStart: o.maxCostUsd === undefined ? undefined : withinBudget,
    onEvent: (e) => {
      const ev = toRunEvent(e);
      if (ev) o.onEvent(ev);
    },
    attempt: async (job, ctx) => {
      // Counted before the first await: the pool asks canStart for the next job synchronously after launching this one.
      inFlight++;
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
        // Charged when the answer arrives, not when the caller reads the result: settled results may wait in the
        // pool's buffer while it starts more work, and every answer (a text-only one too) is billed.
        const cost = costOf(outcome, modelOf(job));
        spentUsd += cost;
        if (cost > 0) billed.set(job, (billed.get(job) ?? 0) + cost);
        return outcome;
      } finally {
        inFlight--;
      }
    },
  });

  async function* fromPool(): AsyncGenerator<Result> {
    for await (const s of pool) {
      const result = resultOf(s.job, s.outcome, { model: modelOf(s.job), attempts: s.attempts, latencyMs: s.latencyMs, mode: 'api' });
      if (client.backendKind === 'vertex') result.backend = 'vertex';
      // A job's cost is every answer it was billed for (a text-only answer before the image too), as the budget counts it.
      const total = billed.get(s.job);
      if (total !== undefined) result.costUsd = total;
      yield result;
    }
  }

  try {
    for await (const result of mergeWithChannel(fromPool(), side, () => hard.abort())) {
      if (cache && cacheOk && result.status === 'succeeded' && result.from === 'api') {
        await cache
          .put(cacheKey(result.job), { images: result.images, text: result.text, usage: result.usage, modelVersion: result.modelVersion })
          .catch(cacheFailed);
      }
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
  if (stoppedByBudget) throw new BudgetExceededError(spentUsd, o.maxCostUsd!);
}
