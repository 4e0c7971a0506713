// What the progress display knows about a run: counts, jobs in flight and retrying, spend, the current pause,
// rate and ETA. Updated from RunEvents; pure (no I/O, no timers), with time from an injected clock so tests can
// drive it on a FakeClock. The renderers (progress-tty/plain/json.ts) only draw from it.
import type { Clock } from '../internal/clock.ts';
import type { RunEvent } from '../index.ts';

export interface ProgressStateOptions {
  /** Time source for rate, ETA and the pause countdown. */
  clock: Pick<Clock, 'now'>;
  /** Jobs in the run, when known. @default undefined (unknown until the `done` event) */
  total?: number;
}

export interface Pause {
  /** When the pause ends, on the state's clock. */
  endsAt: number;
  reason: string;
  quotaId?: string;
}

export class ProgressState {
  total?: number;
  succeeded = 0;
  /** Of `succeeded`, answered from the cache (they took no request time). */
  cached = 0;
  failed = 0;
  skipped = 0;
  /** USD of the answers with a known price. */
  spentUsd = 0;
  /** Jobs saved whose price is not known (a model newer than the registry): not in spentUsd. */
  unpricedJobs = 0;
  /** The scheduler's current concurrency limit, once it has said. */
  limit?: number;
  pause?: Pause;
  /** A `done` event was seen. */
  sawDone = false;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly inFlightKeys = new Set<string>();
  private readonly retryingKeys = new Set<string>();
  private firstStartAt?: number;

  constructor(options: ProgressStateOptions) {
    this.clock = options.clock;
    this.total = options.total;
  }

  /** Jobs finished one way or another. */
  get done(): number {
    return this.succeeded + this.failed + this.skipped;
  }

  get inFlight(): number {
    return this.inFlightKeys.size;
  }

  /** Jobs waiting for their next attempt. */
  get retrying(): number {
    return this.retryingKeys.size;
  }

  apply(e: RunEvent): void {
    if (e.type === 'started') {
      this.firstStartAt ??= this.clock.now();
      this.retryingKeys.delete(e.key);
      this.inFlightKeys.add(e.key);
    } else if (e.type === 'retried') {
      this.inFlightKeys.delete(e.key);
      this.retryingKeys.add(e.key);
    } else if (e.type === 'succeeded' || e.type === 'failed') {
      this.inFlightKeys.delete(e.key);
      this.retryingKeys.delete(e.key);
      if (e.type === 'succeeded') {
        this.succeeded++;
        if (e.cached) this.cached++;
        this.spentUsd += e.costUsd ?? 0;
        if (e.costUnknown) this.unpricedJobs++;
      } else {
        this.failed++;
      }
    } else if (e.type === 'skipped') {
      this.skipped++;
    } else if (e.type === 'paused') {
      // untilMs and at share the emitter's time base; our own clock only measures the countdown from here.
      this.pause = { endsAt: this.clock.now() + Math.max(0, e.untilMs - e.at), reason: e.reason, quotaId: e.quotaId };
    } else if (e.type === 'resumed') {
      this.pause = undefined;
    } else if (e.type === 'concurrency') {
      this.limit = e.limit;
    } else if (e.type === 'done') {
      this.sawDone = true;
      this.total ??= e.summary.total;
    }
  }

  /** Milliseconds left in the current pause (0 when none or over). */
  pauseLeftMs(): number {
    return Math.max(0, (this.pause?.endsAt ?? 0) - this.clock.now());
  }

  /** Images per minute since the first request of this run (skipped and cached jobs take no time). */
  rate(): number {
    const elapsed = this.firstStartAt === undefined ? 0 : this.clock.now() - this.firstStartAt;
    return elapsed > 0 ? ((this.succeeded - this.cached) * 60_000) / elapsed : 0;
  }

  /** Estimated milliseconds to the end: 0 when nothing remains, undefined while unknown (no total or no work yet). */
  etaMs(): number | undefined {
    if (!this.total || this.firstStartAt === undefined) return undefined;
    const worked = this.succeeded - this.cached + this.failed;
    const remaining = this.total - this.done;
    const elapsed = this.clock.now() - this.firstStartAt;
    if (remaining <= 0) return 0;
    if (worked <= 0 || elapsed <= 0) return undefined;
    return (remaining * elapsed) / worked;
  }
}
