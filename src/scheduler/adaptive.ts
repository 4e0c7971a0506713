// An AIMD concurrency limit (TCP congestion control applied to requests, as in Netflix concurrency-limits).
// Drops (429, 503 overload) cut the limit multiplicatively; healthy samples taken while the limit is
// actually used raise it: +1 per sample during slow start (doubling per round trip), then +1 per round trip.
// Plain AIMD treats every drop as congestion, so random 503s (which hit a share of requests whatever our
// load) would hold it near 1/sqrt(p): drops only count while they are more than `dropTolerance` of recent
// answers. Real overload fails every request above the capacity and passes that share at once.

import { OptionError } from '../errors.ts';

export interface AdaptiveOptions {
  /** Lowest limit ever used. @default 1 */
  min?: number;
  /** The ceiling (the user's concurrency). @default the pool's concurrency (8) */
  max?: number;
  /** Starting limit. @default Math.min(max, 4) — a few probes before we know anything about the quota */
  initial?: number;
  /** Factor applied on a drop. @default 0.7 (CUBIC's beta: gentler than halving, still converges fast) */
  backoffRatio?: number;
  /** Added per round trip of healthy, limit-using samples after slow start. @default 1 */
  increase?: number;
  /** Double per round trip until the first drop. @default true */
  slowStart?: boolean;
  /** Share of recent answers that may be drops without cutting the limit (0: every drop cuts). @default 0.05 */
  dropTolerance?: number;
}

export interface ResolvedAdaptiveOptions {
  min: number;
  max: number;
  initial: number;
  backoffRatio: number;
  increase: number;
  slowStart: boolean;
  dropTolerance: number;
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
}

export function resolveAdaptiveOptions(o: AdaptiveOptions, ceiling: number): ResolvedAdaptiveOptions {
  const max = o.max ?? ceiling;
  const min = o.min ?? 1;
  if (!Number.isInteger(max) || max < 1) throw new OptionError('adaptive.max', max, 'an integer ≥ 1');
  if (!Number.isInteger(min) || min < 1 || min > max) throw new OptionError('adaptive.min', min, `an integer in [1, ${max}]`);
  const initial = o.initial ?? Math.max(min, Math.min(max, 4));
  if (!Number.isInteger(initial) || initial < min || initial > max) {
    throw new OptionError('adaptive.initial', initial, `an integer in [${min}, ${max}]`);
  }
  const backoffRatio = o.backoffRatio ?? 0.7;
  if (!(backoffRatio > 0 && backoffRatio < 1)) throw new OptionError('adaptive.backoffRatio', backoffRatio, 'a number in (0, 1)');
  const increase = o.increase ?? 1;
  if (!(increase > 0) || !Number.isFinite(increase)) throw new OptionError('adaptive.increase', increase, 'a positive number');
  const dropTolerance = o.dropTolerance ?? 0.05;
  if (!(dropTolerance >= 0 && dropTolerance < 1)) throw new OptionError('adaptive.dropTolerance', dropTolerance, 'a number in [0, 1)');
  return { min, max, initial, backoffRatio, increase, slowStart: o.slowStart ?? true, dropTolerance };
}

export class AdaptiveLimit {
  private readonly o: ResolvedAdaptiveOptions;
  private value: number;
  private inSlowStart: boolean;
  /** Attempts that started before this time belong to the window already punished. */
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  /** Healthy samples since the last additive step. */
  private healthy = 0;
  /** Moving share of drops over about the last max(10, 2 × limit) answers. */
  private dropRate = 0;

  constructor(options: AdaptiveOptions & { max: number }) {
    this.o = resolveAdaptiveOptions(options, options.max);
    this.value = this.o.initial;
    this.inSlowStart = this.o.slowStart;
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

  /** Feeds one sample; returns true when the integer limit changed. */
  onSample(s: LimitSample): boolean {
    const before = this.limit;
    this.dropRate += ((s.dropped ? 1 : 0) - this.dropRate) / Math.max(10, 2 * before);
    if (s.dropped && this.dropRate <= this.o.dropTolerance) {
      // An isolated drop: noise, not congestion. Neither cut nor grow on it.
    } else if (s.dropped) {
      // A burst of 429s from one window is one congestion event: only attempts started after the
      // last cut may cut again, so the limit drops at most once per round trip.
      const startedAt = s.at - s.latencyMs;
      if (startedAt >= this.lastDecreaseAt) {
        this.value = Math.max(this.o.min, this.value * this.o.backoffRatio);
        this.lastDecreaseAt = s.at;
        this.inSlowStart = false;
        this.healthy = 0;
      }
    } else if (s.inFlight * 2 >= this.limit) {
      // Only grow when the limit is what holds us back; an idle or rate-paced pool proves nothing.
      if (this.inSlowStart) this.value += 1;
      else if (++this.healthy >= this.limit) {
        // A whole limit's worth of healthy answers is one round trip: grow by exactly `increase`.
        this.healthy = 0;
        this.value += this.o.increase;
      }
      if (this.value >= this.o.max) this.value = this.o.max;
    }
    return this.limit !== before;
  }
}
