// Admission control for attempts: the in-flight limit (adaptive or fixed), the rate limits (known or
// learned), the global pause a server announced, and the retry budget with its single-probe fallback.
// It answers "may an attempt start now, and if not, how long to wait", and learns from every outcome.

import type { Outcome } from '../types.ts';
import { AdaptiveLimit } from './adaptive.ts';
import { RetryBudget } from './budget.ts';
import { QuotaLearner } from './learn.ts';
import { Limiter } from './limiter.ts';
import type { Release } from './limiter.ts';
import { RateLimiter } from './rate.ts';
import { isTransientError } from './retry.ts';
import type { PoolEvent, ResolvedPoolOptions } from './types.ts';

/** What admission needs to know about a finished attempt. */
export interface FinishedAttempt {
  id: number;
  startedAt: number;
  inFlightAtStart: number;
}

type Emit = (e: PoolEvent<never>) => void;

/** An attempt started in slow start, until it is admittedAfterMs old or finished. */
interface Young {
  id: number;
  at: number;
  finished: boolean;
  admitted: boolean;
}

export type AdmissionOptions = Pick<
  ResolvedPoolOptions<unknown>,
  'concurrency' | 'adaptive' | 'requestsPerMinute' | 'imagesPerMinute' | 'rateBurst' | 'rateSpeedUp' | 'learnRate' | 'quotaWindowMs' | 'retryBudget' | 'random'
> & {
  /** Spacing of outage probes: starts here, doubles per failed probe... */
  probeBaseMs: number;
  /** ...up to this. */
  probeMaxMs: number;
};

export class Admission {
  private readonly limiter: Limiter;
  private readonly adaptive?: AdaptiveLimit;
  private readonly budget: RetryBudget;
  private readonly learner?: QuotaLearner;
  private readonly rpm?: RateLimiter;
  private readonly ipm?: RateLimiter;
  private learned?: RateLimiter;
  private pauseUntil = Number.NEGATIVE_INFINITY;
  private paused = false;
  private isDegraded = false;
  private nextProbeAt = Number.NEGATIVE_INFINITY;
  private probeDelayMs: number;
  /** Slow start's attempts in start order (see adaptive.ts: a running attempt grows the limit once admitted). */
  private young: Young[] = [];
  private readonly youngById = new Map<number, Young>();
  /** Of those, admitted and still running. */
  private admittedRunning = 0;
  /** Slow start spreads its starts over a round trip instead of sending each doubling at once. */
  private lastStartAt = Number.NEGATIVE_INFINITY;
  /** Moving average of healthy answers' latency (the round trip slow start paces over, when under admittedAfterMs). */
  private latencyMs: number | undefined;

  constructor(
    private readonly o: AdmissionOptions,
    private readonly emit: Emit,
  ) {
    this.budget = new RetryBudget(o.retryBudget);
    this.probeDelayMs = o.probeBaseMs;
    // A known request rate already paces every start at the quota, so AIMD could only hold us below it: at
    // image latencies (~20 s) a slow start per round trip needed ~100 s to reach the ~100 in flight 300 RPM needs, and
    // random 503s keep it near 1/√p. The cap stays at the ceiling; 503s are still retried, budgeted and probed.
    if (o.adaptive && o.requestsPerMinute === undefined) this.adaptive = new AdaptiveLimit({ ...o.adaptive, max: Math.min(o.adaptive.max ?? o.concurrency, o.concurrency) });
    this.limiter = new Limiter(this.adaptive ? this.adaptive.limit : o.concurrency);
    const known = { burst: o.rateBurst, speedUp: o.rateSpeedUp };
    if (o.requestsPerMinute !== undefined) this.rpm = new RateLimiter({ perMinute: o.requestsPerMinute, ...known });
    if (o.imagesPerMinute !== undefined) this.ipm = new RateLimiter({ perMinute: o.imagesPerMinute, ...known });
    if (o.requestsPerMinute === undefined && o.learnRate) this.learner = new QuotaLearner({ windowMs: o.quotaWindowMs });
  }

  get limit(): number {
    return this.limiter.limit;
  }

  get inFlight(): number {
    return this.limiter.inFlight;
  }

  /** One probe at a time, spaced out, because the retry budget ran out; ends with the first healthy answer. */
  get degraded(): boolean {
    return this.isDegraded;
  }

  /** Housekeeping at the top of each dispatch: end an expired pause, probe a learned rate upwards. */
  tick(now: number): void {
    if (this.paused && now >= this.pauseUntil) {
      this.paused = false;
      this.emit({ type: 'resumed', at: now });
    }
    const probed = this.learner?.maybeProbe(now);
    if (probed !== undefined) this.setLearnedRate(probed, now);
    this.admitYoung(now);
  }

  /** Slow start: attempts still running admittedAfterMs after their start grow the limit. */
  private admitYoung(now: number): void {
    const a = this.adaptive;
    if (!a || this.young.length === 0) return;
    if (!a.slowStart) {
      this.young = [];
      this.youngById.clear();
      this.admittedRunning = 0;
      return;
    }
    const after = a.options.admittedAfterMs;
    let changed = false;
    let i = 0;
    for (; i < this.young.length && this.young[i]!.at + after <= now; i++) {
      const y = this.young[i]!;
      if (y.finished) continue;
      y.admitted = true;
      this.admittedRunning++;
      changed = a.onAdmitted(this.admittedRunning) || changed;
    }
    if (i > 0) this.young = this.young.slice(i);
    if (changed) this.updateLimit(now);
  }

  /**
   * In slow start, starts beyond the initial limit are spread evenly over a round trip (min(answer latency, admittedAfterMs)): a doubling
   * sent at once would all arrive before the first 429 comes back, and a quota that runs out mid-burst would
   * refuse the rest of it. Spread, a 429 stops the burst after the few starts its own round trip overlaps.
   */
  private slowStartSpacing(): number {
    const a = this.adaptive;
    // The first `initial` go at once: a few probes are what an unknown quota is assumed to take.
    if (!a?.slowStart || this.limiter.inFlight < a.options.initial) return 0;
    return Math.min(a.options.admittedAfterMs, this.latencyMs ?? Infinity) / this.limiter.limit;
  }

  /** When the oldest young attempt will count as admitted (a wake-up while the limit is full). */
  private nextAdmitWait(now: number): number | undefined {
    const y = this.young[0];
    return y && this.adaptive?.slowStart ? Math.max(y.at + this.adaptive.options.admittedAfterMs - now, 0.001) : undefined;
  }

  /** When the current pause ends, if one is on. */
  get pausedUntil(): number | undefined {
    return this.paused ? this.pauseUntil : undefined;
  }

  /**
   * May an attempt of `cost` images start now? 0: yes; n > 0: not before n ms; undefined: not until
   * an attempt finishes. `budgeted` marks a backoff retry, which also needs the retry budget.
   */
  gate(now: number, cost: number, budgeted: boolean): number | undefined {
    if (budgeted && !this.isDegraded && !this.budget.canRetry(now)) {
      // Budget spent: fall back to one probe at a time instead of adding load to a failing service.
      this.setDegraded(true, now);
    }
    if (this.limiter.inFlight >= this.limiter.limit) return this.paused ? this.pauseUntil - now : this.nextAdmitWait(now);
    if (now < this.pauseUntil) return this.pauseUntil - now;
    if (this.isDegraded && now < this.nextProbeAt) return this.nextProbeAt - now;
    const spacing = this.slowStartSpacing();
    if (now < this.lastStartAt + spacing) return this.lastStartAt + spacing - now;
    const wait = Math.max(this.rpm?.reserve(1, now) ?? 0, this.ipm?.reserve(cost, now) ?? 0);
    const learnedWait = this.learned?.reserve(1, now) ?? 0;
    if (learnedWait > 0 && learnedWait >= wait) this.learner?.noteBinding();
    return Math.max(wait, learnedWait);
  }

  /** Books a start that gate() allowed; the release goes back in finished(). */
  started(id: number, now: number, cost: number, budgeted: boolean): Release | undefined {
    const release = this.limiter.tryAcquire();
    if (!release) return undefined;
    this.rpm?.take(1, now);
    this.ipm?.take(cost, now);
    this.learned?.take(1, now);
    this.budget.recordAttempt(now);
    if (budgeted) this.budget.recordRetry(now);
    this.learner?.recordStart(id, now);
    this.lastStartAt = now;
    if (this.adaptive?.slowStart) {
      const y: Young = { id, at: now, finished: false, admitted: false };
      this.young.push(y);
      this.youngById.set(id, y);
    }
    return release;
  }

  /** Feeds the adaptive limit, the quota learner and the outage detector. */
  finished(a: FinishedAttempt, outcome: Outcome, now: number): void {
    if (outcome.kind === 'error' && outcome.reason === 'cancelled') return;
    const transient = isTransientError(outcome);
    const dropped = transient && (outcome.reason === 'quota' || (outcome.reason === 'server' && outcome.httpStatus === 503));
    const young = this.youngById.get(a.id);
    if (young) {
      young.finished = true;
      if (young.admitted) this.admittedRunning--;
      this.youngById.delete(a.id);
    }
    if (outcome.kind !== 'error') {
      const ms = now - a.startedAt;
      this.latencyMs = this.latencyMs === undefined ? ms : this.latencyMs + (ms - this.latencyMs) / 8;
    }
    if (this.adaptive && (dropped || !transient)) {
      const rateLimited = dropped && outcome.reason === 'quota' && this.learner?.isPerMinute(outcome.retryAfterMs, outcome.quotaId) === true;
      const sample = { latencyMs: now - a.startedAt, dropped, inFlight: a.inFlightAtStart, at: now, admitted: young?.admitted ?? false, rateLimited };
      if (this.adaptive.onSample(sample)) this.updateLimit(now);
    }
    if (transient && outcome.reason === 'quota') {
      // The known rate is wrong or shared: a sped-up window would send its surplus faster than 429s stop it.
      this.rpm?.setSpeedUp(1);
      this.ipm?.setSpeedUp(1);
    }
    if (transient && outcome.reason === 'quota' && this.learner) {
      this.learner.recordRejected(a.id);
      const learned = this.learner.onQuota(now, a.startedAt, outcome.retryAfterMs, outcome.quotaId, outcome.quotaLimit);
      if (learned !== undefined) this.setLearnedRate(learned, now);
    }
    if (this.isDegraded && !transient) {
      this.budget.reset();
      this.probeDelayMs = this.o.probeBaseMs;
      this.nextProbeAt = Number.NEGATIVE_INFINITY;
      // The outage cut the limit once per round trip; slow-start back instead of +1 per round trip.
      this.adaptive?.restart();
      this.setDegraded(false, now);
    } else if (this.isDegraded && transient && outcome.reason !== 'quota') {
      // Still failing: space the probes out exponentially (with jitter) so a long outage costs a
      // handful of attempts, not one per due retry.
      this.nextProbeAt = now + this.probeDelayMs * (0.5 + this.o.random() / 2);
      this.probeDelayMs = Math.min(this.o.probeMaxMs, this.probeDelayMs * 2);
    }
  }

  /** No attempt starts before `until` (a server-announced delay applies to everyone, not just the job told). */
  pause(until: number, reason: string, quotaId: string | undefined, now: number): void {
    if (until <= this.pauseUntil) return;
    this.pauseUntil = until;
    this.paused = true;
    this.emit({ type: 'paused', untilMs: until, reason, quotaId, at: now });
  }

  private setLearnedRate(perMinute: number, now: number): void {
    const rate = Math.max(1, perMinute);
    if (this.learned) this.learned.setRate(rate, now);
    else this.learned = new RateLimiter({ perMinute: rate, burst: this.o.rateBurst });
    this.emit({ type: 'rate', requestsPerMinute: rate, learned: true, at: now });
  }

  private setDegraded(degraded: boolean, now: number): void {
    if (degraded === this.isDegraded) return;
    this.isDegraded = degraded;
    this.emit({ type: 'degraded', degraded, at: now });
    this.updateLimit(now);
  }

  private updateLimit(now: number): void {
    const limit = this.isDegraded ? 1 : this.adaptive ? this.adaptive.limit : this.o.concurrency;
    if (limit === this.limiter.limit) return;
    this.limiter.setLimit(limit);
    this.emit({ type: 'concurrency', limit, inFlight: this.limiter.inFlight, at: now });
  }
}
