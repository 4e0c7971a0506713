// The scheduler: generic over the job type, pure (no fetch, no fs), time and randomness injected.
//
// DESIGN
//   pool.ts       runPool(): the contract, option defaults; engine.ts: the dispatcher state machine
//   admission.ts  may an attempt start now? in-flight limit, rate limits, server pause, retry budget
//   limiter.ts    in-flight cap, FIFO, changeable at run time
//   adaptive.ts   AIMD limit: start min(ceiling, 8), slow start until the first drop: twice the attempts the
//                 server admitted (still running after 2 s; refusals come back at once), so it doubles per
//                 ~2 s, not per 20-s image, with its starts paced over that round trip; then ×0.7 at most once
//                 per round trip and +1 per round trip while used; isolated drops (≤ 5 % of recent answers)
//                 are noise; a per-minute 429 only ends slow start (the rate, not the in-flight count, ran
//                 out); after an outage, slow start again. Off when requestsPerMinute is known: the rate
//                 already paces the starts, so the cap stays at the ceiling
//   rate.ts       GCRA per-minute limiter; burst 0 by default: a known quota is met exactly, never exceeded;
//                 a known rate starts each window's allowance 4 × faster (rateSpeedUp), never more than the
//                 quota in any window, until the first quota 429 (then even pacing for the rest of the run)
//   learn.ts      unknown quota: a per-minute 429's RetryInfo dates the window, its accepted requests are the
//                 quota (or the limit the 429 states, when the window began before our first request); pace
//                 at it, probe upwards after each clean window (first back to the best seen)
//   budget.ts     backoff retries ≤ 20 % of attempts per minute (10 always allowed)
//   retry.ts      the one retry policy (pure)
//   results.ts    completion-order or input-order buffer; wakeup.ts: level-triggered wake + abortable sleep
//   coordinator.ts  optional outside authority (a quota shared through Redis, src/quota/): one lease request
//                 at a time after the local checks; every attempt's end is reported to it
// Behaviour worth knowing:
//   - A 429 with RetryInfo pauses every start until the announced time plus this retry's jitter; the job
//     that was told goes first when it ends. Server-delay retries still count towards maxAttempts.
//   - When the retry budget is spent the pool is "degraded": one attempt at a time, probes spaced
//     exponentially (retry base delay up to its cap), no new job while a retry waits; the first healthy
//     answer ends it and forgives the spent budget.
//   - Held jobs (in flight + waiting to retry) ≤ maxHeld (2 × concurrency); settled results waiting for
//     the consumer ≤ maxBuffered (concurrency); so at most maxHeld + maxBuffered + 1 jobs are pulled
//     ahead of the consumer.

export { Limiter } from './limiter.ts';
export type { Release } from './limiter.ts';
export { AdaptiveLimit, DROP_COUNT_TOLERANCE, DROP_TOLERANCE, resolveAdaptiveOptions } from './adaptive.ts';
export type { AdaptiveOptions, LimitSample, ResolvedAdaptiveOptions } from './adaptive.ts';
export { RateLimiter } from './rate.ts';
export type { RateLimitOptions } from './rate.ts';
export { QuotaLearner } from './learn.ts';
export type { QuotaLearnerOptions } from './learn.ts';
export { RetryBudget } from './budget.ts';
export type { RetryBudgetOptions } from './budget.ts';
export { decide, defaultRetryPolicy, resolveRetryOptions, backoffDelayMs, serverDelayMs, isTransientError, humanMs } from './retry.ts';
export type { Decision, RetryContext, RetryPolicyOptions } from './retry.ts';
export { runPool, resolvePoolOptions } from './pool.ts';
export type { AttemptReport, Coordinator } from './coordinator.ts';
export type { AttemptContext, PoolEvent, PoolOptions, ResolvedPoolOptions, Settled } from './types.ts';
