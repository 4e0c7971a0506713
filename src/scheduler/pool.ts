// The public face of the scheduler: runPool() turns a lazy stream of jobs into a stream of settled
// results, admitting each attempt under the concurrency limit, the rate limits and any server pause.
// The moving parts live in engine.ts, the contract (options, events, results) in types.ts; this file holds the
// option defaults.

import { systemClock } from '../internal/clock.ts';
import { OptionError } from '../errors.ts';
import { checkNumber } from '../internal/check.ts';
import { resolveAdaptiveOptions } from './adaptive.ts';
import { RetryBudget } from './budget.ts';
import { resolveRetryOptions } from './retry.ts';
import { PoolEngine } from './engine.ts';
import type { PoolOptions, ResolvedPoolOptions, Settled } from './types.ts';

export function resolvePoolOptions<J>(o: PoolOptions<J>): ResolvedPoolOptions<J> {
  if (typeof o?.attempt !== 'function') throw new OptionError('attempt', o?.attempt, 'a function');
  const concurrency = o.concurrency ?? 8;
  positiveInt('concurrency', concurrency);
  const maxBuffered = o.maxBuffered ?? concurrency;
  positiveInt('maxBuffered', maxBuffered);
  const maxHeld = o.maxHeld ?? 2 * concurrency;
  positiveInt('maxHeld', maxHeld);
  if (maxHeld < concurrency) throw new OptionError('maxHeld', maxHeld, `an integer ≥ concurrency (${concurrency})`);
  for (const name of ['requestsPerMinute', 'imagesPerMinute'] as const) {
    const v = o[name];
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new OptionError(name, v, 'a positive number');
  }
  const rateBurst = o.rateBurst ?? 0;
  if (!(rateBurst >= 0) || !Number.isFinite(rateBurst)) throw new OptionError('rateBurst', rateBurst, 'a number ≥ 0');
  const rateSpeedUp = checkNumber('rateSpeedUp', o.rateSpeedUp ?? 4, { min: 1 });
  const adaptive = o.adaptive === false ? false : o.adaptive === true || o.adaptive === undefined ? {} : o.adaptive;
  // Validated now so that every bad option is reported at the call (the objects are rebuilt by the engine).
  if (adaptive) resolveAdaptiveOptions({ ...adaptive, max: Math.min(adaptive.max ?? concurrency, concurrency) }, concurrency);
  new RetryBudget(o.retryBudget);
  return {
    attempt: o.attempt,
    concurrency,
    adaptive,
    requestsPerMinute: o.requestsPerMinute,
    imagesPerMinute: o.imagesPerMinute,
    rateBurst,
    rateSpeedUp,
    imagesPerJob: o.imagesPerJob ?? (() => 1),
    learnRate: o.learnRate ?? true,
    quotaWindowMs: checkNumber('quotaWindowMs', o.quotaWindowMs ?? 60_000, { above: 0 }),
    retry: resolveRetryOptions(o.retry),
    retryBudget: o.retryBudget ?? {},
    ordered: o.ordered ?? false,
    maxBuffered,
    maxHeld,
    clock: o.clock ?? systemClock,
    random: o.random ?? Math.random,
    signal: o.signal,
    stopSignal: o.stopSignal,
    canStart: o.canStart,
    onEvent: o.onEvent,
    coordinator: o.coordinator,
  };
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new OptionError(name, v, 'an integer ≥ 1');
}

/**
 * Runs `jobs` through `options.attempt` and yields each job's terminal result exactly once.
 * Single-use; nothing starts before the first next(); bad options throw an OptionError at the call.
 * Jobs are pulled lazily. A run-level failure (bad key, daily quota) is thrown after the
 * in-flight attempts settled and their terminal results were yielded. Breaking out of `for await`
 * aborts in-flight attempts and resolves once they have returned.
 */
export function runPool<J>(jobs: Iterable<J> | AsyncIterable<J>, options: PoolOptions<J>): AsyncGenerator<Settled<J>, void, undefined> {
  // Options are checked here, at the call, not at the first next().
  return drain(jobs, resolvePoolOptions(options));
}

async function* drain<J>(jobs: Iterable<J> | AsyncIterable<J>, options: ResolvedPoolOptions<J>): AsyncGenerator<Settled<J>, void, undefined> {
  const engine = new PoolEngine<J>(jobs, options);
  try {
    engine.start();
    for (;;) {
      const next = engine.takeResult();
      if (next) {
        yield next;
        continue;
      }
      if (engine.finished) {
        if (engine.error !== undefined) throw engine.error;
        return;
      }
      await engine.changed();
    }
  } finally {
    await engine.close();
  }
}
