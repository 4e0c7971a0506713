// The scheduler's contract, shared by pool.ts (options and defaults), engine.ts, admission.ts and results.ts:
// kept apart so none of them imports another for a type (no import cycles).
import type { Clock } from '../internal/clock.ts';
import type { Outcome } from '../types.ts';
import type { AdaptiveOptions } from './adaptive.ts';
import type { RetryBudgetOptions } from './budget.ts';
import type { Coordinator } from './coordinator.ts';
import type { RetryPolicyOptions } from './retry.ts';

export interface AttemptContext {
  /** 1-based attempt number for this job. */
  attempt: number;
  /** Ask for the image more firmly: an earlier attempt of this job came back without one. */
  reinforce: boolean;
  /** Aborted when the pool is closed or hard-aborted; pass it to the transport. */
  signal: AbortSignal;
}

/** A job's terminal result, yielded exactly once. */
export interface Settled<J> {
  job: J;
  /** The last attempt's outcome. */
  outcome: Outcome;
  attempts: number;
  firstStartAt: number;
  settledAt: number;
  /** settledAt - firstStartAt. */
  latencyMs: number;
  decision: 'done' | 'give_up';
}

export type PoolEvent<J> =
  | { type: 'started'; job: J; attempt: number; at: number }
  /** `attempt` is the attempt that failed; the next one starts after `delayMs`. */
  | { type: 'retried'; job: J; attempt: number; reason: string; delayMs: number; at: number }
  | { type: 'paused'; untilMs: number; reason: string; quotaId?: string; at: number }
  | { type: 'resumed'; at: number }
  | { type: 'concurrency'; limit: number; inFlight: number; at: number }
  | { type: 'degraded'; degraded: boolean; at: number }
  | { type: 'stopping'; why: 'stop_signal' | 'run_error' | 'can_start'; at: number }
  /** Requests per minute learned from 429s when none was given (see learn.ts). */
  | { type: 'rate'; requestsPerMinute: number; learned: true; at: number };

export interface PoolOptions<J> {
  /** One HTTP attempt. Must not throw; if it does, the throw counts as a network error. */
  attempt(job: J, ctx: AttemptContext): Promise<Outcome>;
  /** The ceiling of attempts in flight. @default 8 */
  concurrency?: number;
  /**
   * Adapt the in-flight limit to 429/503 pushback (AIMD) below the ceiling; false: always `concurrency`.
   * Ignored when requestsPerMinute is given (the known rate paces starts; the cap stays at the ceiling). @default true
   */
  adaptive?: boolean | AdaptiveOptions;
  /** Known requests-per-minute quota: attempts are paced AT it (see rate.ts). @default undefined (unknown, learned from 429s) */
  requestsPerMinute?: number;
  /** Known images-per-minute quota, charged imagesPerJob(job) per attempt. @default undefined */
  imagesPerMinute?: number;
  /** Extra requests/images beyond the rate allowed back-to-back. @default 0 (never above the quota in any window) */
  rateBurst?: number;
  /**
   * A known rate starts each window's allowance up to this many times faster than the even pace, never above the
   * quota in any window; the first quota 429 sets it back to 1 for the rest of the run (see rate.ts). @default 4
   */
  rateSpeedUp?: number;
  /** Images one attempt of this job asks for. @default () => 1 */
  imagesPerJob?: (job: J) => number;
  /** Learn requests per minute from per-minute 429s when requestsPerMinute is not given. @default true */
  learnRate?: boolean;
  /** The server's quota window, the one rates are learned over: 60 s at Google. @default 60000 */
  quotaWindowMs?: number;
  /** Overrides of the retry policy (retry.ts). @default defaultRetryPolicy */
  retry?: Partial<RetryPolicyOptions>;
  /** Share of attempts that may be backoff retries. @default { ratio: 0.2, windowMs: 60_000, minPerWindow: 10 } */
  retryBudget?: RetryBudgetOptions;
  /** Yield in input order instead of completion order. @default false */
  ordered?: boolean;
  /**
   * Settled results that may wait unconsumed before new jobs stop being admitted. Each may hold its images, so
   * this bounds memory when the consumer (fsync per image) is slower than the server. @default concurrency
   */
  maxBuffered?: number;
  /** Jobs held at once (in flight + waiting for a retry). @default 2 × concurrency */
  maxHeld?: number;
  /** @default systemClock */
  clock?: Clock;
  /** @default Math.random */
  random?: () => number;
  /** Hard abort: aborts in-flight attempts, stops everything; the iterator yields what had settled before, then returns. @default undefined */
  signal?: AbortSignal;
  /** Soft stop: no new attempt (retries included) starts; in-flight ones finish and are yielded if terminal. @default undefined */
  stopSignal?: AbortSignal;
  /** Asked before every attempt (retries included); false soft-stops the pool (e.g. a spend budget). @default undefined */
  canStart?(job: J): boolean;
  /** Progress events. Exceptions thrown here are ignored. @default undefined */
  onEvent?(e: PoolEvent<J>): void;
  /**
   * An admission authority shared with other processes (src/quota/): asked for a lease before every attempt that
   * passed the local checks, told how each ended. @default undefined (this process decides alone)
   */
  coordinator?: Coordinator<J>;
}

/** PoolOptions with every default applied and validated. */
export interface ResolvedPoolOptions<J> {
  attempt: PoolOptions<J>['attempt'];
  concurrency: number;
  adaptive: AdaptiveOptions | false;
  requestsPerMinute?: number;
  imagesPerMinute?: number;
  rateBurst: number;
  rateSpeedUp: number;
  imagesPerJob: (job: J) => number;
  learnRate: boolean;
  quotaWindowMs: number;
  retry: RetryPolicyOptions;
  retryBudget: RetryBudgetOptions;
  ordered: boolean;
  maxBuffered: number;
  maxHeld: number;
  clock: Clock;
  random: () => number;
  signal?: AbortSignal;
  stopSignal?: AbortSignal;
  canStart?: (job: J) => boolean;
  onEvent?: (e: PoolEvent<J>) => void;
  coordinator?: Coordinator<J>;
}
