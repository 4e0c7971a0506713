// A retry budget (as in Envoy and Google SRE client-side throttling): retries may be at most a share of
// recent attempts, with a small floor so a quiet run can still retry. When it is spent, retries wait for
// the pool's single-probe mode instead of multiplying load on a service that is already failing.

import { OptionError } from '../errors.ts';

export interface RetryBudgetOptions {
  /** Retries allowed as a share of all attempts in the window. @default 0.2 */
  ratio?: number;
  /** Sliding window. @default 60_000 */
  windowMs?: number;
  /** Retries always allowed per window, whatever the ratio says. @default 10 */
  minPerWindow?: number;
}

export class RetryBudget {
  private readonly ratio: number;
  private readonly windowMs: number;
  private readonly minPerWindow: number;
  private attempts: number[] = [];
  private retries: number[] = [];

  constructor(o: RetryBudgetOptions = {}) {
    this.ratio = o.ratio ?? 0.2;
    this.windowMs = o.windowMs ?? 60_000;
    this.minPerWindow = o.minPerWindow ?? 10;
    if (!(this.ratio >= 0) || !Number.isFinite(this.ratio)) throw new OptionError('retryBudget.ratio', this.ratio, 'a number ≥ 0');
    if (!(this.windowMs > 0) || !Number.isFinite(this.windowMs)) throw new OptionError('retryBudget.windowMs', this.windowMs, 'a positive number');
    if (!Number.isInteger(this.minPerWindow) || this.minPerWindow < 0) {
      throw new OptionError('retryBudget.minPerWindow', this.minPerWindow, 'an integer ≥ 0');
    }
  }

  /** Every attempt that starts, first tries and retries alike. */
  recordAttempt(now: number): void {
    this.attempts.push(now);
    // canRetry() prunes too, but a run without retries never calls it: without this the list grows per attempt.
    if (this.attempts.length > 64 && this.attempts[0]! <= now - this.windowMs) this.prune(now);
  }

  /** A budgeted retry that starts (also call recordAttempt). */
  recordRetry(now: number): void {
    this.retries.push(now);
  }

  /** May a budgeted retry start now? */
  canRetry(now: number): boolean {
    this.prune(now);
    return this.retries.length < Math.max(this.minPerWindow, this.ratio * this.attempts.length);
  }

  /** Forget spent retries: the service proved healthy again, the outage's debt should not slow recovery. */
  reset(): void {
    this.retries = [];
  }

  private prune(now: number): void {
    const from = now - this.windowMs;
    this.attempts = dropBefore(this.attempts, from);
    this.retries = dropBefore(this.retries, from);
  }
}

function dropBefore(times: number[], from: number): number[] {
  let i = 0;
  while (i < times.length && times[i]! <= from) i++;
  return i === 0 ? times : times.slice(i);
}
