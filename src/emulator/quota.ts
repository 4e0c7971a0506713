// Per-model quotas in fixed windows counted from emulator start, on the scaled clock.
// Only accepted requests count: a request rejected with 429 (or 503 for concurrency) does not use up the
// window, so a client that backs off correctly is never punished for the probes it had to make.
import type { QuotaOptions } from './options.ts';
import type { QuotaViolationInfo } from './errors.ts';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export const QUOTA_IDS = {
  rpm: 'GenerateRequestsPerMinutePerProjectPerModel',
  // UNCONFIRMED name: Google documents IPM but no capture shows its quotaId.
  ipm: 'GenerateImagesPerMinutePerProjectPerModel',
  rpd: 'GenerateRequestsPerDayPerProjectPerModel',
} as const;

const METRICS = {
  requests: 'generativelanguage.googleapis.com/generate_content_requests',
  images: 'generativelanguage.googleapis.com/generate_content_images',
} as const;

interface ModelWindows {
  minute: number;
  requests: number;
  images: number;
  day: number;
  dayRequests: number;
}

export class QuotaTracker {
  private quota: QuotaOptions;
  private readonly perModel = new Map<string, ModelWindows>();

  /**
   * @param startMs real time (performance.now() scale) the windows count from
   * @param timeScale real ms per emulated ms
   */
  constructor(
    quota: QuotaOptions,
    private readonly startMs: number,
    private readonly timeScale: number,
  ) {
    this.quota = { ...quota };
  }

  get options(): QuotaOptions {
    return { ...this.quota };
  }

  /** Merges a change; a key present with value undefined removes that limit. */
  update(change: Partial<QuotaOptions>): void {
    const next: Record<string, number | undefined> = { ...this.quota };
    for (const [k, v] of Object.entries(change)) next[k] = v;
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    this.quota = next as QuotaOptions;
  }

  /** Index of the 60 s (emulated) window `now` falls in. */
  minuteIndex(now: number): number {
    return Math.floor((now - this.startMs) / (MINUTE_MS * this.timeScale));
  }

  private windows(model: string, now: number): ModelWindows {
    const minute = this.minuteIndex(now);
    const day = Math.floor((now - this.startMs) / (DAY_MS * this.timeScale));
    let w = this.perModel.get(model);
    if (!w) {
      w = { minute, requests: 0, images: 0, day, dayRequests: 0 };
      this.perModel.set(model, w);
    }
    if (w.minute !== minute) Object.assign(w, { minute, requests: 0, images: 0 });
    if (w.day !== day) Object.assign(w, { day, dayRequests: 0 });
    return w;
  }

  /** Real ms until the window of length `emulatedMs` containing `now` ends. */
  private remaining(now: number, emulatedMs: number): number {
    const len = emulatedMs * this.timeScale;
    const elapsed = (now - this.startMs) % len;
    return len - elapsed;
  }

  /**
   * The violated limit, if admitting one request (with `images` images) would exceed one.
   * The day is checked first: it is the limit a client must not simply wait out.
   */
  check(model: string, images: number, now: number): QuotaViolationInfo | undefined {
    const w = this.windows(model, now);
    const q = this.quota;
    if (q.requestsPerDay !== undefined && w.dayRequests + 1 > q.requestsPerDay) {
      return { metric: METRICS.requests, quotaId: QUOTA_IDS.rpd, limit: q.requestsPerDay, model, retryMs: this.remaining(now, DAY_MS) };
    }
    if (q.requestsPerMinute !== undefined && w.requests + 1 > q.requestsPerMinute) {
      return { metric: METRICS.requests, quotaId: QUOTA_IDS.rpm, limit: q.requestsPerMinute, model, retryMs: this.remaining(now, MINUTE_MS) };
    }
    if (images > 0 && q.imagesPerMinute !== undefined && w.images + images > q.imagesPerMinute) {
      return { metric: METRICS.images, quotaId: QUOTA_IDS.ipm, limit: q.imagesPerMinute, model, retryMs: this.remaining(now, MINUTE_MS) };
    }
    return undefined;
  }

  /** Counts an admitted request against every window. */
  commit(model: string, images: number, now: number): void {
    const w = this.windows(model, now);
    w.requests++;
    w.images += images;
    w.dayRequests++;
  }
}
