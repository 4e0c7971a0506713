// The scheduler: generic over the job type, pure (no fetch, no fs), time and randomness injected.

export { Limiter } from './limiter.ts';
export type { Release } from './limiter.ts';
export { AdaptiveLimit, resolveAdaptiveOptions } from './adaptive.ts';
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
export type { AttemptContext, PoolEvent, PoolOptions, ResolvedPoolOptions, Settled } from './pool.ts';
