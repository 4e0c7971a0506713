// A rate limiter for per-minute quotas (requests or images), as GCRA: one number, the "theoretical
// arrival time", instead of a token count that needs a refill timer.
//
// Guarantee: in any half-open window of `windowMs`, units started ≤ perMinute + burst (for whole rates).
// The default burst is 0 on purpose: sending exactly at the quota never trips a fixed-window or
// sliding-window server, while any burst above it costs one 429 (and a pause) per window.
// Costs above 1 + burst (a 4-image job under a tight images-per-minute quota) go when the bucket is
// full and leave a debt, so the long-run rate still holds.
//
// `speedUp` > 1 starts a window's allowance that many times faster than the even pace, and a log of the last
// window's starts keeps the count ≤ perMinute + burst in any window, which is how Google counts a per-minute limit
// ("21 requests within a minute" break a limit of 20: https://ai.google.dev/gemini-api/docs/rate-limits). Why: paced
// evenly, the last window's jobs start up to a whole window before the end and the run ends with the slowest answer
// of the last ones (1.27 × (n/rate + latency) at 300 RPM with 20 s answers); started sooner, their tail overlaps the
// wait for the next window. A sped-up window sends its allowance faster than 429s can stop it if the rate is
// wrong, so the caller sets speedUp back to 1 at the first 429 (admission.ts).

import { OptionError } from '../errors.ts';
import { checkNumber } from '../internal/check.ts';

export interface RateLimitOptions {
  /** Units (requests or images) allowed per window. */
  perMinute: number;
  /** Extra units that may start back-to-back beyond the steady rate. @default 0 */
  burst?: number;
  /** Window length the rate is expressed in. @default 60_000 */
  windowMs?: number;
  /** Start a window's allowance up to this many times faster than the even pace (see above). @default 1 */
  speedUp?: number;
}

export class RateLimiter {
  private intervalMs: number;
  private readonly capacity: number;
  private readonly windowMs: number;
  private readonly burst: number;
  private rate: number;
  /** When the bucket would be completely full again (ms, clock time). */
  private tat = Number.NEGATIVE_INFINITY;
  private speed: number;
  /** With speedUp: the starts of the last window, oldest first (from `head`), and their units in total. */
  private log?: { at: number[]; units: number[]; head: number; total: number };

  constructor(options: RateLimitOptions) {
    const burst = options.burst ?? 0;
    this.windowMs = options.windowMs ?? 60_000;
    if (!(this.windowMs > 0) || !Number.isFinite(this.windowMs)) throw new OptionError('windowMs', this.windowMs, 'a positive number');
    if (!(burst >= 0) || !Number.isFinite(burst)) throw new OptionError('burst', burst, 'a number ≥ 0');
    this.rate = checkRate(options.perMinute);
    this.burst = burst;
    this.capacity = burst + 1;
    this.speed = 1;
    this.intervalMs = this.windowMs / this.rate;
    this.setSpeedUp(options.speedUp ?? 1);
  }

  /** The current speed-up (1: even pacing). */
  get speedUp(): number {
    return this.speed;
  }

  /** Changes the speed-up; the window's allowance still holds for starts already made. */
  setSpeedUp(speedUp: number): void {
    this.speed = checkNumber('speedUp', speedUp, { min: 1 });
    this.intervalMs = this.windowMs / this.rate / this.speed;
    // Created once and kept after setSpeedUp(1): a window already sped up must still end within its allowance.
    if (this.speed > 1) this.log ??= { at: [], units: [], head: 0, total: 0 };
  }

  get perMinute(): number {
    return this.rate;
  }

  /** Milliseconds to wait before `cost` units may start (0: now). Consumes nothing. */
  reserve(cost: number, now: number): number {
    const units = Math.min(Math.max(cost, 0), this.capacity);
    const allowedAt = Math.max(this.tat - (this.capacity - units) * this.intervalMs, this.windowAllows(cost, now));
    const wait = allowedAt - now;
    // Rounded up to whole ms so that a caller sleeping `wait` is never a rounding error early.
    return wait > 1e-9 ? Math.ceil(wait - 1e-9) : 0;
  }

  /** Records `cost` units started at `now` (call when reserve() returned 0). */
  take(cost: number, now: number): void {
    this.tat = Math.max(this.tat, now) + Math.max(cost, 0) * this.intervalMs;
    const log = this.log;
    if (log && cost > 0) {
      log.at.push(now);
      log.units.push(cost);
      log.total += cost;
    }
  }

  /** With a log: the earliest time `cost` more units keep the last window within perMinute + burst. */
  private windowAllows(cost: number, now: number): number {
    const log = this.log;
    if (!log) return Number.NEGATIVE_INFINITY;
    // The window a little longer than the server's: a network delay may move a start across the server's edge.
    const windowMs = this.windowMs * 1.01;
    while (log.head < log.at.length && log.at[log.head]! <= now - windowMs) {
      log.total -= log.units[log.head]!;
      log.head++;
    }
    if (log.head > 1024 && log.head * 2 > log.at.length) {
      log.at.splice(0, log.head);
      log.units.splice(0, log.head);
      log.head = 0;
    }
    // A cost above the allowance goes into an empty window (as the bucket lets it go when full).
    const allowance = this.rate + this.burst;
    let excess = log.total + Math.min(cost, allowance) - allowance;
    let i = log.head;
    for (; excess > 1e-9 && i < log.at.length; i++) excess -= log.units[i]!;
    return i === log.head ? Number.NEGATIVE_INFINITY : log.at[i - 1]! + windowMs;
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
    this.intervalMs = this.windowMs / rate / this.speed;
    if (Number.isFinite(this.tat)) this.tat = now + debtUnits * this.intervalMs;
  }
}

function checkRate(perMinute: number): number {
  if (!(perMinute > 0) || !Number.isFinite(perMinute)) throw new OptionError('perMinute', perMinute, 'a positive number');
  return perMinute;
}
