// "Discovered" requests-per-minute for when the user does not know the quota.
//
// A 429 whose QuotaFailure names a per-minute quota carries RetryInfo: the window resets at
// now + retryAfterMs, so it began one window earlier. Every request of ours the server accepted in that
// window is a unit of quota, and we just ran out: that count IS the quota (for us). Windows that began
// before our first request are not learned from (someone else may have used part of them). Pacing at it spreads the work evenly instead of bursting
// until the next 429. The estimate is probed upwards after each window that passed without a 429
// while it held us back: straight back to the highest rate learned so far if that is higher (a quota
// that dropped and came back is found again after one window), else x1.25, x1.5, x2, ...
// Overshooting costs one 429 and a pause to a window end that we would have reached anyway.
// After a 429 taught a rate below the highest learned, the first window that begins after it is probed at once,
// straight back to that highest rate, instead of after a whole clean window: a per-minute window is counted afresh,
// so if the quota is still low the probe costs one 429 and a pause to that window's end, and the window's quota is
// used all the same; if the quota came back (60 -> 20 -> 60 RPM), a window at the low rate is saved. Two such probes
// answered by a 429 in a row end this until a probe has held for a whole window.
// A window we cannot count (it began before our first request) is not wasted when the 429 states its limit
// (QuotaFailure quotaValue, or "limit: N" in the message): that is the rate until a window we can count says
// how much of it is ours. So the estimate converges at the first 429, or one window later.

export interface QuotaLearnerOptions {
  /** The window a per-minute quota is counted over. @default 60_000 */
  windowMs?: number;
  /** Multipliers applied after 1, 2, 3... consecutive clean windows; the last one repeats. @default [1.25, 1.5, 2] */
  probeFactors?: readonly number[];
}

/** Probes at a window's start (see above) answered by a 429 in a row, after which only clean windows probe. */
const MAX_EARLY_FAILURES = 2;

interface StartRecord {
  id: number;
  at: number;
  rejected: boolean;
}

export class QuotaLearner {
  private readonly windowMs: number;
  private readonly factors: readonly number[];
  private starts: StartRecord[] = [];
  private estimate: number | undefined;
  private highest = 0;
  private firstStartAt = Number.POSITIVE_INFINITY;
  private lastResetAt = Number.NEGATIVE_INFINITY;
  private cleanSince = Number.NEGATIVE_INFINITY;
  private probes = 0;
  private binding = false;
  /** The last probe, until a 429 answers it: early (at a window's start, see above) or after a clean window. */
  private probing: 'early' | 'clean' | undefined;
  private earlyFailures = 0;

  constructor(options: QuotaLearnerOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.factors = options.probeFactors && options.probeFactors.length > 0 ? options.probeFactors : [1.25, 1.5, 2];
  }

  /** The learned requests per minute, once a 429 taught us one. */
  get perMinute(): number | undefined {
    return this.estimate;
  }

  /** Starts held for counting (between two and three windows of them, once the run is that long). */
  get recordedStarts(): number {
    return this.starts.length;
  }

  recordStart(id: number, at: number): void {
    if (this.firstStartAt === Number.POSITIVE_INFINITY) this.firstStartAt = at;
    this.starts.push({ id, at, rejected: false });
    // onQuota counts back one window from an attempt's start: two windows are kept. Trimming only once the oldest
    // record is a third window old drops a window of records at a time, O(1) per start amortised; trimming as soon
    // as it passed the horizon copied two windows of records at EVERY start (170 µs a start at 100 starts/s, so a
    // cost per job that grew with the rate and appeared two minutes into a run: bench/scale.ts).
    const horizon = at - 2 * this.windowMs;
    if (this.starts.length > 64 && (this.starts[0]?.at ?? at) < horizon - this.windowMs) this.starts = this.starts.filter((s) => s.at >= horizon);
  }

  /** The attempt `id` was answered with a quota 429 (it consumed no quota). */
  recordRejected(id: number): void {
    for (let i = this.starts.length - 1; i >= 0; i--) {
      const s = this.starts[i]!;
      if (s.id === id) {
        s.rejected = true;
        return;
      }
    }
  }

  /** The pacing limiter delayed a start: the estimate is what holds us back, so it may be probed. */
  noteBinding(): void {
    this.binding = true;
  }

  /** Does a 429 name a per-minute window and when it ends (so it can be dated, and says the rate is spent)? */
  isPerMinute(retryAfterMs: number | undefined, quotaId: string | undefined): boolean {
    return retryAfterMs !== undefined && retryAfterMs <= this.windowMs && quotaId !== undefined && /PerMinute/i.test(quotaId);
  }

  /**
   * A quota 429 for an attempt started at `startedAt` and answered at `now`; `limit` is the quota it states.
   * Returns the new estimate when one was learned (once per window), else undefined.
   */
  onQuota(now: number, startedAt: number, retryAfterMs: number | undefined, quotaId?: string, limit?: number): number | undefined {
    // Only a quota that names a per-minute window can be dated from its RetryInfo.
    if (retryAfterMs === undefined || !this.isPerMinute(retryAfterMs, quotaId)) return undefined;
    // Quotas are checked on arrival, so the delay counts from about when the attempt started.
    const resetAt = startedAt + retryAfterMs;
    this.cleanSince = Math.max(this.cleanSince, now + retryAfterMs);
    this.probes = 0;
    this.binding = false;
    if (this.probing === 'early') this.earlyFailures++;
    this.probing = undefined;
    // Several in-flight attempts hit the same exhausted window: learn from the first one only.
    if (Math.abs(resetAt - this.lastResetAt) < this.windowMs / 2) return undefined;
    const from = resetAt - this.windowMs;
    // A window that began before our first request was partly used by someone else (another client, a
    // previous run): its count would be an underestimate. Take the stated limit for now, count the next one.
    // (Slack: clock skew.)
    if (from < this.firstStartAt - this.windowMs * 0.02) {
      if (limit === undefined || !(limit > 0) || this.estimate !== undefined) return undefined;
      this.estimate = (limit * 60_000) / this.windowMs;
      this.highest = Math.max(this.highest, this.estimate);
      return this.estimate;
    }
    let accepted = 0;
    for (const s of this.starts) if (!s.rejected && s.at >= from && s.at < startedAt) accepted++;
    if (accepted < 1) return undefined;
    this.lastResetAt = resetAt;
    this.estimate = (accepted * 60_000) / this.windowMs;
    this.highest = Math.max(this.highest, this.estimate);
    return this.estimate;
  }

  /**
   * Call when deciding what to start: returns a raised estimate after a clean, binding window, or (back to the
   * highest rate learned) as soon as a window begins after the 429 that lowered it.
   */
  maybeProbe(now: number): number | undefined {
    if (this.estimate === undefined || !this.binding || now < this.cleanSince) return undefined;
    if (now - this.cleanSince < this.windowMs) {
      // (After any probe the estimate is at least the highest rate, so a probe out never gets an early one on top.)
      if (this.highest <= this.estimate || this.earlyFailures >= MAX_EARLY_FAILURES) return undefined;
      this.probing = 'early';
      this.binding = false;
      this.cleanSince = now;
      this.estimate = this.highest;
      return this.estimate;
    }
    // A whole window passed without a 429: the probe out (if any) held.
    if (this.probing !== undefined) this.earlyFailures = 0;
    this.probing = 'clean';
    const factor = this.factors[Math.min(this.probes, this.factors.length - 1)]!;
    this.probes++;
    this.binding = false;
    this.cleanSince = now;
    this.estimate = Math.max(this.estimate * factor, this.probes === 1 ? this.highest : 0);
    return this.estimate;
  }
}
