// An AIMD concurrency limit (TCP congestion control applied to requests, as in Netflix concurrency-limits).
// Drops (429, 503 overload) cut the limit multiplicatively; healthy samples taken while the limit is
// actually used raise it: +1 per sample during slow start (doubling per round trip), then +1 per round trip.
// Slow start does not wait for images (a 20-s round trip would need ~100 s to reach 100 in flight): the server
// refuses a request on arrival (a quota 429 or an overload 503 comes back in well under a second), so an attempt
// still running after `admittedAfterMs` was admitted, and the limit may be twice the admitted attempts running
// (onAdmitted): it doubles per min(answer latency, admittedAfterMs). A 429 that names a per-minute window and when
// it ends (`rateLimited`) says the RATE is spent, not that too many are in flight: the pause and the learned rate
// (learn.ts) handle it, so it ends slow start at what was in flight, without a cut. After an outage, restart()
// slow-starts back towards where the limit was.
// Plain AIMD treats every drop as congestion, so random 503s (which hit a share of requests whatever our
// load) would hold it near 1/sqrt(p): drops only count while they take more than `dropTolerance` of the recent
// attempts' time. Measured in time, not in answers, because a refusal's cost is the slot time it held: Vertex's
// bare 429 (dynamic shared quota) comes back at once and is not billed, so refusing 30 % of the requests above
// some load wastes almost nothing, and cutting on it would halve the throughput of a server that still admits
// most of them. Real overload fails every request above the capacity, which shows in time too (the slots above
// it do nothing else). Fast refusals still cannot storm: above `dropCountTolerance` of the recent answers they
// cut whatever their time (Google SRE's client-side throttling keeps requests under 2 × accepts:
// https://sre.google/sre-book/handling-overload/).

import { OptionError } from '../errors.ts';

export interface AdaptiveOptions {
  /** Lowest limit ever used. @default 1 */
  min?: number;
  /** The ceiling (the user's concurrency). @default the pool's concurrency (8) */
  max?: number;
  /** Starting limit. @default Math.min(max, 8) — a few probes before we know anything about the quota */
  initial?: number;
  /** Factor applied on a drop. @default 0.7 (CUBIC's beta: gentler than halving, still converges fast) */
  backoffRatio?: number;
  /** Added per round trip of healthy, limit-using samples after slow start. @default 1 */
  increase?: number;
  /** Double per round trip until the first drop. @default true */
  slowStart?: boolean;
  /** Share of the recent attempts' time that may be spent on drops without cutting the limit (0: every drop cuts). @default 0.05 */
  dropTolerance?: number;
  /** Share of recent answers that may be drops, however fast they came back, without cutting. @default 0.5 */
  dropCountTolerance?: number;
  /**
   * In slow start, an attempt still running this long after it started was admitted by the server: the limit may
   * be twice the admitted attempts running. Gemini refuses on arrival (429, 503) in well under a second; images
   * take 5-30 s. @default 2000
   */
  admittedAfterMs?: number;
}

/** Default share of recent attempt time that drops may take before a cut (also the shared quota's group limit). */
export const DROP_TOLERANCE = 0.05;
/** Default share of recent answers that drops may be, however fast, before a cut (Google SRE's K = 2). */
export const DROP_COUNT_TOLERANCE = 0.5;

export interface ResolvedAdaptiveOptions {
  min: number;
  max: number;
  initial: number;
  backoffRatio: number;
  increase: number;
  slowStart: boolean;
  dropTolerance: number;
  dropCountTolerance: number;
  admittedAfterMs: number;
}

/** One finished attempt, as the limit sees it. */
export interface LimitSample {
  /** How long the attempt took. */
  latencyMs: number;
  /** The server pushed back: 429 or 503 overload. */
  dropped: boolean;
  /** Attempts in flight when this one started (including itself): tells whether the limit was being used. */
  inFlight: number;
  /** When the attempt finished (clock ms). */
  at: number;
  /** Already counted as growth by onAdmitted() while it ran. @default false */
  admitted?: boolean;
  /** A drop that is a spent per-minute rate (a 429 naming its window's end), not too many in flight. @default false */
  rateLimited?: boolean;
}

export function resolveAdaptiveOptions(o: AdaptiveOptions, ceiling: number): ResolvedAdaptiveOptions {
  const max = o.max ?? ceiling;
  const min = o.min ?? 1;
  if (!Number.isInteger(max) || max < 1) throw new OptionError('adaptive.max', max, 'an integer ≥ 1');
  if (!Number.isInteger(min) || min < 1 || min > max) throw new OptionError('adaptive.min', min, `an integer in [1, ${max}]`);
  const initial = o.initial ?? Math.max(min, Math.min(max, 8));
  if (!Number.isInteger(initial) || initial < min || initial > max) {
    throw new OptionError('adaptive.initial', initial, `an integer in [${min}, ${max}]`);
  }
  const backoffRatio = o.backoffRatio ?? 0.7;
  if (!(backoffRatio > 0 && backoffRatio < 1)) throw new OptionError('adaptive.backoffRatio', backoffRatio, 'a number in (0, 1)');
  const increase = o.increase ?? 1;
  if (!(increase > 0) || !Number.isFinite(increase)) throw new OptionError('adaptive.increase', increase, 'a positive number');
  const dropTolerance = o.dropTolerance ?? DROP_TOLERANCE;
  if (!(dropTolerance >= 0 && dropTolerance < 1)) throw new OptionError('adaptive.dropTolerance', dropTolerance, 'a number in [0, 1)');
  const dropCountTolerance = o.dropCountTolerance ?? DROP_COUNT_TOLERANCE;
  if (!(dropCountTolerance >= 0 && dropCountTolerance < 1)) throw new OptionError('adaptive.dropCountTolerance', dropCountTolerance, 'a number in [0, 1)');
  const admittedAfterMs = o.admittedAfterMs ?? 2000;
  if (!(admittedAfterMs > 0) || !Number.isFinite(admittedAfterMs)) throw new OptionError('adaptive.admittedAfterMs', admittedAfterMs, 'a positive number');
  return { min, max, initial, backoffRatio, increase, slowStart: o.slowStart ?? true, dropTolerance, dropCountTolerance, admittedAfterMs };
}

export class AdaptiveLimit {
  private readonly o: ResolvedAdaptiveOptions;
  private value: number;
  private inSlowStart: boolean;
  /** Attempts that started before this time belong to the window already punished. */
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  /** Healthy samples since the last additive step. */
  private healthy = 0;
  /** Moving share of drops over about the last max(10, 2 × limit) answers... */
  private dropRate = 0;
  /** ...and the time those answers took, split into drops' and all (moving sums over the same answers). */
  private dropTime = 0;
  private allTime = 0;
  /** Slow start after an outage ends here (the cut a drop would have made from the limit before it). */
  private slowStartEnd = Number.POSITIVE_INFINITY;
  /** The limit before the current run of cuts began (what an outage took away). */
  private beforeCuts: number;
  private lastCutAt = Number.NEGATIVE_INFINITY;

  constructor(options: AdaptiveOptions & { max: number }) {
    this.o = resolveAdaptiveOptions(options, options.max);
    this.value = this.o.initial;
    this.beforeCuts = this.value;
    this.inSlowStart = this.o.slowStart;
  }

  get options(): ResolvedAdaptiveOptions {
    return this.o;
  }

  /** The integer limit to apply now. */
  get limit(): number {
    return Math.max(this.o.min, Math.min(this.o.max, Math.floor(this.value + 1e-9)));
  }

  /** The exact (fractional) estimate, for diagnostics. */
  get estimate(): number {
    return this.value;
  }

  get slowStart(): boolean {
    return this.inSlowStart;
  }

  /**
   * Slow start: `admitted` attempts are running that the server took (each has run admittedAfterMs without being
   * refused). Allow twice that many, as an answer per attempt would in a round trip (TCP's doubling). Returns true
   * when the integer limit changed.
   */
  onAdmitted(admitted: number): boolean {
    if (!this.inSlowStart) return false;
    const before = this.limit;
    this.value = Math.max(this.value, Math.min(this.o.max, this.slowStartEnd, 2 * admitted));
    if (this.value >= this.slowStartEnd) this.endSlowStart();
    return this.limit !== before;
  }

  /** After an outage (every answer failed for a while): slow start again towards where the limit was. */
  restart(): boolean {
    if (!this.o.slowStart || this.value >= this.beforeCuts * this.o.backoffRatio) return false;
    this.inSlowStart = true;
    this.slowStartEnd = this.beforeCuts * this.o.backoffRatio;
    this.dropRate = 0;
    this.dropTime = 0;
    this.allTime = 0;
    return true;
  }

  /** Feeds one sample; returns true when the integer limit changed. */
  onSample(s: LimitSample): boolean {
    const before = this.limit;
    if (s.dropped && s.rateLimited) {
      // The rate is spent until the window ends: more or fewer in flight changes nothing, so no cut. But slow start
      // ends, at what was in flight when it ran out: the next window must not open with a burst far above it.
      if (this.inSlowStart) {
        this.value = Math.max(this.o.min, Math.min(this.value, s.inFlight));
        this.endSlowStart();
      }
      return this.limit !== before;
    }
    const n = Math.max(10, 2 * before);
    this.dropRate += ((s.dropped ? 1 : 0) - this.dropRate) / n;
    const ms = Math.max(1, s.latencyMs);
    this.dropTime = this.dropTime * (1 - 1 / n) + (s.dropped ? ms : 0);
    this.allTime = this.allTime * (1 - 1 / n) + ms;
    if (s.dropped && !this.congested()) {
      // Isolated or cheap drops: noise, not congestion. Neither cut nor grow on it.
    } else if (s.dropped) {
      // A burst of 429s from one window is one congestion event: only attempts started after the
      // last cut may cut again, so the limit drops at most once per round trip.
      const startedAt = s.at - s.latencyMs;
      if (startedAt >= this.lastDecreaseAt) {
        // Cuts less than two minutes apart are one run (an outage cuts once per failed probe, ≤ 60 s apart).
        if (s.at - this.lastCutAt > 120_000) this.beforeCuts = this.value;
        this.lastCutAt = s.at;
        this.value = Math.max(this.o.min, this.value * this.o.backoffRatio);
        this.lastDecreaseAt = s.at;
        this.inSlowStart = false;
        this.healthy = 0;
      }
    } else if (!(s.admitted && this.inSlowStart)) {
      this.grow(s.inFlight);
    }
    return this.limit !== before;
  }

  /** Do recent drops say the server is past its capacity? */
  private congested(): boolean {
    if (this.o.dropTolerance === 0 || this.dropRate > this.o.dropCountTolerance) return true;
    // The time share means something only beside a healthy answer's time: before the first one, fast refusals are
    // judged by their count alone.
    const healthy = this.allTime - this.dropTime;
    return healthy > 0 && this.dropTime / this.allTime > this.o.dropTolerance;
  }

  private endSlowStart(): void {
    this.inSlowStart = false;
    this.slowStartEnd = Number.POSITIVE_INFINITY;
  }

  private grow(inFlight: number): void {
    // Only grow when the limit is what holds us back; an idle or rate-paced pool proves nothing.
    if (inFlight * 2 < this.limit) return;
    if (this.inSlowStart) {
      this.value += 1;
      if (this.value >= this.slowStartEnd) this.endSlowStart();
    } else if (++this.healthy >= this.limit) {
      // A whole limit's worth of healthy answers is one round trip: grow by exactly `increase`.
      this.healthy = 0;
      this.value += this.o.increase;
    }
    if (this.value >= this.o.max) this.value = this.o.max;
  }
}
