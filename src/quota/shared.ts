// A quota group shared through Redis, as the pool's Coordinator: every attempt of every process of the group
// takes a lease from the same atomic state (lua.ts), so their sum keeps to the project's limits.
//
// Redis trouble fails closed: no lease, no new start (in-flight attempts finish and are saved); the client
// reconnects with backoff and the run goes on when Redis answers again. After `timeoutMs` without Redis the
// run stops with SharedQuotaUnavailableError (exit 3). With fallback 'local' the process instead paces itself
// at once at the known rates ÷ expectedProcesses until Redis is back.
import { hostname } from 'node:os';
import type { Clock } from '../internal/clock.ts';
import { abortReason } from '../internal/clock.ts';
import { BillingError, QuotaExhaustedError, SharedQuotaUnavailableError } from '../errors.ts';
import { DROP_COUNT_TOLERANCE, DROP_TOLERANCE, RateLimiter, isTransientError } from '../scheduler/index.ts';
import type { AttemptReport, Coordinator } from '../scheduler/index.ts';
import { Wakeup } from '../scheduler/wakeup.ts';
import type { QuotaRedis } from './connect.ts';
import { modelKeys, modelsKey } from './keys.ts';
import type { ResolvedSharedQuota } from './options.ts';

export interface SharedQuotaConfig<J> {
  redis: QuotaRedis;
  /** The resolved --shared-quota options. */
  shared: ResolvedSharedQuota;
  /** The group's name (see keys.ts defaultGroup). */
  group: string;
  modelOf: (job: J) => string;
  /** Known requests per minute of the group (per model). @default unknown */
  requestsPerMinute?: number;
  /** Known images per minute of the group (per model). @default unknown */
  imagesPerMinute?: number;
  /** Ceiling of the group's attempts in flight (booked or running). */
  concurrency: number;
  /** Adapt the group's in-flight limit to 429/503 (AIMD) when the request rate is unknown. */
  adaptive: boolean;
  /** Learn the group's request rate from per-minute 429s when it is unknown. */
  learnRate: boolean;
  /** A lease not released by then is dropped (a crashed process cannot hold it for ever): the attempt deadline plus margin. */
  leaseTtlMs: number;
  clock: Clock;
  random: () => number;
  /** Something the user should know (Redis lost, Redis back). */
  warn: (message: string) => void;
}

let instances = 0;

export class SharedQuota<J> implements Coordinator<J> {
  private seq = 0;
  /** Lease ids read "host/pid/instance.seq#model": `quota status` groups them by host/pid. */
  private readonly me = `${hostname()}/${process.pid}/${instances++}`;
  private downSince?: number;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly freed = new Wakeup();
  private readonly startedAt = new Map<string, number>();
  private latencyMs = 1000;
  private local?: { rpm?: RateLimiter; ipm?: RateLimiter };

  constructor(private readonly c: SharedQuotaConfig<J>) {}

  /** Redis round trips so far (scripts run). */
  get roundTrips(): number {
    return this.c.redis.roundTrips;
  }

  async acquire(job: J, cost: number, signal: AbortSignal): Promise<string> {
    const { c } = this;
    const model = c.modelOf(job);
    const keys = [...modelKeys(c.group, model), modelsKey(c.group)];
    const lease = `${this.me}.${this.seq++}#${model}`;
    let booked = false;
    try {
      for (;;) {
        if (signal.aborted) throw abortReason(signal);
        let reply: [string, string];
        try {
          reply = await c.redis.acquire(keys, [
            lease,
            cost,
            c.requestsPerMinute ?? 0,
            c.imagesPerMinute ?? 0,
            c.concurrency,
            c.leaseTtlMs,
            c.adaptive && c.requestsPerMinute === undefined ? 1 : 0,
            c.learnRate ? 1 : 0,
            c.shared.windowMs,
            booked ? 1 : 0,
            model,
          ]);
        } catch (e) {
          if (isScriptBug(e)) throw e;
          if (this.outage(e)) return await this.localLease(lease, cost, signal);
          await this.sleep(this.backoffMs(), signal);
          continue;
        }
        this.back();
        const [what, detail] = reply;
        const ms = Number(detail);
        if (what === 'go') {
          this.startedAt.set(lease, c.clock.now());
          booked = false;
          return lease;
        }
        if (what === 'stop') throw new QuotaExhaustedError(`${detail} (reported by a process of quota group ${c.group})`);
        if (what === 'book') booked = true;
        if (what === 'full') await this.freed.wait(c.clock, this.pollMs(ms));
        else await this.sleep(ms + (what === 'wait' ? c.random() * 10 : 0), signal);
      }
    } finally {
      // Aborted or stopped with a slot booked: give it back at once rather than when it expires.
      if (booked) this.send(keys, [lease, 'cancel', 0, 0, -1, '', 0, 0, c.concurrency, c.shared.windowMs, DROP_TOLERANCE, DROP_COUNT_TOLERANCE]);
    }
  }

  release(lease: string, report?: AttemptReport): void {
    this.freed.notify();
    if (lease.startsWith('local:')) return;
    const { c } = this;
    const at = this.startedAt.get(lease);
    this.startedAt.delete(lease);
    if (at !== undefined && report) this.latencyMs += (c.clock.now() - at - this.latencyMs) / 8;
    const model = lease.split('#')[1];
    if (model === undefined) return;
    const keys = modelKeys(c.group, model);
    const args = [lease, ...this.describe(report), c.adaptive && c.requestsPerMinute === undefined ? 1 : 0, c.concurrency, c.shared.windowMs, DROP_TOLERANCE, DROP_COUNT_TOLERANCE];
    this.send(keys, args);
  }

  /** Waits for the releases still on the wire, then disconnects. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await this.c.redis.close();
  }

  /** kind, quota429, pauseMs, learnRetryMs, stopMessage, stopTtlMs (lua.ts RELEASE). */
  private describe(report: AttemptReport | undefined): (string | number)[] {
    if (!report) return ['cancel', 0, 0, -1, '', 0];
    const o = report.outcome;
    const error = o.kind === 'error' ? o : undefined;
    const dropped = error !== undefined && (error.reason === 'quota' || (error.reason === 'server' && error.httpStatus === 503));
    const kind = dropped ? 'drop' : isTransientError(o) || error?.reason === 'cancelled' ? 'other' : 'ok';
    const quota = error?.reason === 'quota';
    const perMinute = quota && error.retryAfterMs !== undefined && error.retryAfterMs <= this.c.shared.windowMs && /PerMinute/i.test(error.quotaId ?? '');
    const stop = report.stopError;
    const groupStop = stop instanceof QuotaExhaustedError || stop instanceof BillingError;
    const stopTtl = Math.min(error?.retryAfterMs ?? 3_600_000, 86_400_000);
    return [kind, quota ? 1 : 0, Math.max(0, report.pauseMs ?? 0), perMinute ? error.retryAfterMs! : -1, groupStop ? stop.message : '', Math.max(1, Math.ceil(stopTtl))];
  }

  private send(keys: readonly string[], args: readonly (string | number)[]): void {
    // A lost release only means the lease expires on its own (leaseTtlMs): never worth failing the run.
    const p = this.c.redis.release(keys, args).catch(() => undefined);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Redis did not answer: true when the local fallback should take this attempt. Throws once the outage is too long. */
  private outage(e: unknown): boolean {
    const { c } = this;
    const now = c.clock.now();
    if (this.downSince === undefined) {
      this.downSince = now;
      const what = c.shared.fallback === 'local' ? 'pacing this process alone' : 'no new request starts until it is back';
      c.warn(`shared quota: Redis unreachable (${errorText(e)}); ${what}`);
    }
    if (c.shared.fallback === 'local') return true;
    const down = now - this.downSince;
    if (down >= c.shared.timeoutMs) {
      throw new SharedQuotaUnavailableError(
        `the shared quota's Redis was unreachable for ${Math.round(down / 1000)} s (--shared-quota-timeout ${Math.round(c.shared.timeoutMs / 1000)} s): ${errorText(e)}`,
        down,
        { cause: e },
      );
    }
    return false;
  }

  private back(): void {
    if (this.downSince === undefined) return;
    this.downSince = undefined;
    this.c.warn('shared quota: Redis is back; the group paces this process again');
  }

  /** The in-process stand-in while Redis is away (fallback 'local'): this process's share of the known rates. */
  private async localLease(lease: string, cost: number, signal: AbortSignal): Promise<string> {
    const { c } = this;
    const n = c.shared.expectedProcesses;
    this.local ??= {
      rpm: c.requestsPerMinute === undefined ? undefined : new RateLimiter({ perMinute: c.requestsPerMinute / n }),
      ipm: c.imagesPerMinute === undefined ? undefined : new RateLimiter({ perMinute: c.imagesPerMinute / n }),
    };
    for (;;) {
      const now = c.clock.now();
      const wait = Math.max(this.local.rpm?.reserve(1, now) ?? 0, this.local.ipm?.reserve(cost, now) ?? 0);
      if (wait === 0) break;
      await this.sleep(wait, signal);
    }
    const now = c.clock.now();
    this.local.rpm?.take(1, now);
    this.local.ipm?.take(cost, now);
    return `local:${lease}`;
  }

  private backoffMs(): number {
    const down = this.c.clock.now() - (this.downSince ?? this.c.clock.now());
    return Math.min(1000, 50 + down / 4) * (0.5 + this.c.random());
  }

  /**
   * The group is at its in-flight limit. While this process has attempts running, one of them ending frees a slot it
   * hears of at once (freed), so it only looks again after about an answer's time; with none running it looks again
   * about when one of the group's attempts should have ended. Polling at the group's pace from every process would
   * cost each slot one round trip per process.
   */
  private pollMs(limit: number): number {
    const every = this.startedAt.size > 0 ? this.latencyMs : this.latencyMs / Math.max(1, limit);
    return Math.min(1000, Math.max(10, every)) * (0.5 + this.c.random());
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    // A confirmation that arrives before its slot costs a round trip, so never wake early: rounded up to whole ms,
    // plus one, because a timer counts from the event loop's time in whole ms and can fire up to 1 ms before its delay
    // has passed (7 of 200 setTimeout(5) calls here, by up to 0.8 ms; two such wakes took a CI run of the
    // quota-redis test to 136 round trips for 45 starts against the 134 the book/confirm/release count gives).
    return this.c.clock.sleep(ms > 0 ? Math.ceil(ms) + 1 : 0, signal);
  }
}

/** A Lua error is a bug in our scripts, not an outage: surface it instead of waiting. */
function isScriptBug(e: unknown): boolean {
  return e instanceof Error && e.name === 'ReplyError' && /script|lua/i.test(e.message);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
