// An optional admission authority outside this process (a quota shared with other processes, e.g. through Redis).
// The pool asks it before every attempt, after its own checks passed, and tells it how each attempt ended. The
// scheduler knows only this interface; implementations live elsewhere (src/quota/).

import type { Outcome } from '../types.ts';

/** How an attempt that held a lease ended. */
export interface AttemptReport {
  outcome: Outcome;
  /** A server-announced wait (ms from now) that pauses every start, when the retry policy took one. */
  pauseMs?: number;
  /** The run-level error the retry policy raised from this outcome (daily quota, bad key, ...). */
  stopError?: Error;
}

export interface Coordinator<J> {
  /**
   * Resolves with a lease when an attempt of `job` asking for `cost` images may start. Rejects with a run-level
   * error when the run must stop, and with the signal's reason when `signal` is aborted (nothing was started).
   */
  acquire(job: J, cost: number, signal: AbortSignal): Promise<string>;
  /** The attempt holding `lease` ended; without a report it never started. Must not throw. */
  release(lease: string, report?: AttemptReport): void;
}
