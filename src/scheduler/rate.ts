// A rate limiter for per-minute quotas (requests or images), as GCRA: one number, the "theoretical
// arrival time", instead of a token count that needs a refill timer.
//
// Guarantee: in any half-open window of `windowMs`, units started ≤ perMinute + burst (for whole rates).
// The default burst is 0 on purpose: sending exactly at the quota never trips a fixed-window or
// sliding-window server, while any burst above it costs one 429 (and a pause) per window.
// Costs above 1 + burst (a 4-image job under a tight images-per-minute quota) go when the bucket is
// full and leave a debt, so the long-run rate still holds.

import { OptionError } from '../errors.ts';

export interface RateLimitOptions {
  /** Units (requests or images) allowed per window. */
  perMinute: number;
  /** Extra units that may start back-to-back beyond the steady rate. @default 0 */
  burst?: number;
  /** Window length the rate is expressed in. @default 60_000 */
  windowMs?: number;
}

export class RateLimiter {
  private intervalMs: number;
  private readonly capacity: number;
  private readonly windowMs: number;
  private rate: number;
  /** When the bucket would be completely full again (ms, clock time). */
  private tat = Number.NEGATIVE_INFINITY;

  constructor(options: RateLimitOptions) {
    const burst = options.burst ?? 0;
    this.windowMs = options.windowMs ?? 60_000;
    if (!(this.windowMs > 0) || !Number.isFinite(this.windowMs)) throw new OptionError('windowMs', this.windowMs, 'a positive number');
    if (!(burst >= 0) || !Number.isFinite(burst)) throw new OptionError('burst', burst, 'a number ≥ 0');
    this.rate = checkRate(options.perMinute);
    this.intervalMs = this.windowMs / this.rate;
    this.capacity = burst + 1;
  }

  get perMinute(): number {
    return this.rate;
  }

  /** Milliseconds to wait before `cost` units may start (0: now). Consumes nothing. */
  reserve(cost: number, now: number): number {
    const units = Math.min(Math.max(cost, 0), this.capacity);
    const allowedAt = this.tat - (this.capacity - units) * this.intervalMs;
    const wait = allowedAt - now;
    // Rounded up to whole ms so that a caller sleeping `wait` is never a rounding error early.
    return wait > 1e-9 ? Math.ceil(wait - 1e-9) : 0;
  }

  /** Records `cost` units started at `now` (call when reserve() returned 0). */
  take(cost: number, now: number): void {
    this.tat = Math.max(this.tat, now) + Math.max(cost, 0) * this.intervalMs;
  }

  /** take() if allowed now; returns 0 when taken, else the wait. */
  tryTake(cost: number, now: number): number {
    const wait = this.reserve(cost, now);
    if (wait === 0) this.take(cost, now);
    return wait;
  }

  /** Changes the rate, keeping any outstanding debt in units (not in time). */
  setRate(perMinute: number, now: number): void {
    const rate = checkRate(perMinute);
    const debtUnits = Math.max(0, this.tat - now) / this.intervalMs;
    this.rate = rate;
    this.intervalMs = this.windowMs / rate;
    if (Number.isFinite(this.tat)) this.tat = now + debtUnits * this.intervalMs;
  }
}

function checkRate(perMinute: number): number {
  if (!(perMinute > 0) || !Number.isFinite(perMinute)) throw new OptionError('perMinute', perMinute, 'a positive number');
  return perMinute;
}
