// What the emulator saw, so tests and benchmarks can assert on client behaviour (not just on results).

export interface EmulatorCounters {
  /** Every HTTP request received. */
  requests: number;
  /** Answers by HTTP status ("200", "429", ...); connections cut mid-answer count as "reset", closed before any answer (hang faults, client timeouts) as "aborted". */
  byStatus: Record<string, number>;
  /** Requests by route name (generateContent, streamGenerateContent, uploadStart, uploadChunk, filesGet, ...). */
  byRoute: Record<string, number>;
  /** 429 answers by QuotaFailure quotaId. */
  quota429ByQuotaId: Record<string, number>;
  /** generate requests being served now (admitted, not yet answered or abandoned). */
  inFlight: number;
  maxInFlight: number;
  /** Most generate requests that arrived within one 60 s (emulated) window counted from start, admitted or not. */
  maxStartsPerWindow: number;
  /** generate requests that arrived before a RetryInfo deadline this emulator announced for that model. */
  startsInsidePause: number;
  /** generate requests per prompt text (all text parts joined by "\n"). */
  requestsByPrompt: Map<string, number>;
  /** Final (non-thought) images sent by generateContent / streamGenerateContent. */
  imagesGenerated: number;
  /** Injected faults by kind (scripted, random and outage); "outage" counts outage answers. */
  faults: Record<string, number>;
  batchesCreated: number;
  /** Requests (lines) in created batches. */
  batchRequests: number;
  /** Finalised uploads. */
  uploads: number;
}

function bump(rec: Record<string, number>, key: string, by = 1): void {
  rec[key] = (rec[key] ?? 0) + by;
}

export class CounterStore {
  private c!: EmulatorCounters;
  private window = -1;
  private windowStarts = 0;
  /** Real-time deadline per model, from the latest 429 RetryInfo. */
  private readonly pauseUntil = new Map<string, number>();

  constructor() {
    this.reset();
  }

  reset(): void {
    const inFlight = this.c?.inFlight ?? 0;
    this.c = {
      requests: 0,
      byStatus: {},
      byRoute: {},
      quota429ByQuotaId: {},
      inFlight,
      maxInFlight: inFlight,
      maxStartsPerWindow: 0,
      startsInsidePause: 0,
      requestsByPrompt: new Map(),
      imagesGenerated: 0,
      faults: {},
      batchesCreated: 0,
      batchRequests: 0,
      uploads: 0,
    };
    this.window = -1;
    this.windowStarts = 0;
    this.pauseUntil.clear();
  }

  snapshot(): EmulatorCounters {
    const c = this.c;
    return {
      ...c,
      byStatus: { ...c.byStatus },
      byRoute: { ...c.byRoute },
      quota429ByQuotaId: { ...c.quota429ByQuotaId },
      requestsByPrompt: new Map(c.requestsByPrompt),
      faults: { ...c.faults },
    };
  }

  requestsForPrompt(prompt: string): number {
    return this.c.requestsByPrompt.get(prompt) ?? 0;
  }

  request(route: string): void {
    this.c.requests++;
    bump(this.c.byRoute, route);
  }

  answered(status: number | 'reset' | 'aborted'): void {
    bump(this.c.byStatus, String(status));
  }

  /** A generate request arrived (after auth and parsing): window starts, pause check, prompt count. */
  generateArrived(model: string, prompt: string, minuteIndex: number, now: number): void {
    if (minuteIndex !== this.window) {
      this.window = minuteIndex;
      this.windowStarts = 0;
    }
    this.windowStarts++;
    this.c.maxStartsPerWindow = Math.max(this.c.maxStartsPerWindow, this.windowStarts);
    const until = this.pauseUntil.get(model);
    if (until !== undefined && now < until) this.c.startsInsidePause++;
    this.c.requestsByPrompt.set(prompt, (this.c.requestsByPrompt.get(prompt) ?? 0) + 1);
  }

  quotaRejected(model: string, quotaId: string, retryAtRealMs: number): void {
    bump(this.c.quota429ByQuotaId, quotaId);
    this.pauseUntil.set(model, Math.max(this.pauseUntil.get(model) ?? 0, retryAtRealMs));
  }

  enter(): void {
    this.c.inFlight++;
    this.c.maxInFlight = Math.max(this.c.maxInFlight, this.c.inFlight);
  }

  leave(): void {
    this.c.inFlight = Math.max(0, this.c.inFlight - 1);
  }

  get inFlight(): number {
    return this.c.inFlight;
  }

  fault(kind: string): void {
    bump(this.c.faults, kind);
  }

  images(n: number): void {
    this.c.imagesGenerated += n;
  }

  batchCreated(requests: number): void {
    this.c.batchesCreated++;
    this.c.batchRequests += requests;
  }

  upload(): void {
    this.c.uploads++;
  }
}
