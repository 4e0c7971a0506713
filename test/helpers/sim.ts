// A simulated Gemini on virtual time, for scheduler tests: per-minute quota answered with 429 +
// RetryInfo (delay to the end of the fixed window, like "Please retry in 47.8s"), latency, overload
// (503 above a concurrency) and outages. Plus drive(): runs a promise to completion on a FakeClock.

import type { FakeClock } from '../../src/internal/clock.ts';
import { flushMicrotasks } from '../../src/internal/clock.ts';
import type { Outcome } from '../../src/types.ts';
import type { AttemptContext } from '../../src/scheduler/index.ts';

export { seededRandom as seeded } from '../../src/internal/random.ts';

/**
 * Settles `work` by advancing the fake clock to each next sleeper. Throws if nothing is scheduled
 * while the work is still pending (a hang in real time), or after maxMs of virtual time.
 */
export async function drive<T>(clock: FakeClock, work: Promise<T>, maxMs = 24 * 3_600_000): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  const limit = clock.now() + maxMs;
  while (!settled) {
    await flushMicrotasks();
    if (settled) break;
    const next = clock.nextAt();
    if (next === undefined) throw new Error(`stalled at t=${clock.now()}: nothing scheduled and the work is still pending`);
    if (next > limit) throw new Error(`virtual time limit reached at t=${clock.now()}`);
    await clock.advanceTo(next);
  }
  return work;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export interface Outage {
  from: number;
  to: number;
  /** 'server' answers 500 (or `status`), 'network' fails the connection. */
  reason: 'server' | 'network';
  status?: number;
}

export interface SimServerOptions {
  clock: FakeClock;
  random: () => number;
  /** Requests accepted per fixed window at time `now` (windows start at multiples of windowMs). @default no quota */
  quota?: (now: number) => number;
  /** @default 60_000 */
  windowMs?: number;
  /** Latency of an accepted request. @default 2000-4000 ms uniform */
  latencyMs?: (random: () => number) => number;
  /** Latency of a rejection (429, 503, outage). @default 50 */
  rejectLatencyMs?: number;
  /** More concurrent requests than this get 503 "The model is overloaded". @default no limit */
  overloadAbove?: number;
  outages?: Outage[];
  /** @default GenerateRequestsPerMinutePerProjectPerModel */
  quotaId?: string;
  /**
   * 'fixed': windows start at multiples of windowMs, RetryInfo says when the current one ends.
   * 'sliding': at most quota accepted in any windowMs, RetryInfo says when the oldest one leaves it.
   * @default 'fixed'
   */
  quotaModel?: 'fixed' | 'sliding';
  /** Fixed windows began this long before t = 0 (the server was counting before the client started). @default 0 */
  windowOffsetMs?: number;
  /** 429s state the quota (QuotaFailure quotaValue). @default false */
  statesLimit?: boolean;
}

export type SimResult = 'ok' | 'quota' | 'overload' | 'outage' | 'cancelled';

export interface SimRecord {
  at: number;
  result: SimResult;
}

export class SimServer {
  readonly log: SimRecord[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly accepted = new Map<number, number>();
  private readonly recent: number[] = [];
  private readonly windowMs: number;

  constructor(private readonly o: SimServerOptions) {
    this.windowMs = o.windowMs ?? 60_000;
  }

  /** Use as PoolOptions.attempt. */
  attempt = async (_job: unknown, ctx: AttemptContext): Promise<Outcome> => {
    const { clock, random } = this.o;
    const now = clock.now();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const [result, outcome] = this.answer(now);
      const latency = result === 'ok' ? (this.o.latencyMs?.(random) ?? 2000 + 2000 * random()) : (this.o.rejectLatencyMs ?? 50);
      this.log.push({ at: now, result });
      try {
        await clock.sleep(latency, ctx.signal);
      } catch {
        return { kind: 'error', reason: 'cancelled', message: 'aborted' };
      }
      return outcome;
    } finally {
      this.inFlight--;
    }
  };

  private answer(now: number): [SimResult, Outcome] {
    const outage = this.o.outages?.find((x) => now >= x.from && now < x.to);
    if (outage) {
      return outage.reason === 'network'
        ? ['outage', { kind: 'error', reason: 'network', message: 'connection reset' }]
        : ['outage', { kind: 'error', reason: 'server', httpStatus: outage.status ?? 500, message: 'An internal error has occurred.' }];
    }
    if (this.o.overloadAbove !== undefined && this.inFlight > this.o.overloadAbove) {
      return ['overload', { kind: 'error', reason: 'server', httpStatus: 503, status: 'UNAVAILABLE', message: 'The model is overloaded.' }];
    }
    if (this.o.quota && this.o.quotaModel === 'sliding') {
      while (this.recent.length > 0 && this.recent[0]! <= now - this.windowMs) this.recent.shift();
      if (this.recent.length >= this.o.quota(now)) return this.tooMany(this.recent[0]! + this.windowMs - now, this.o.quota(now));
      this.recent.push(now);
    } else if (this.o.quota) {
      const offset = this.o.windowOffsetMs ?? 0;
      const w = Math.floor((now + offset) / this.windowMs);
      const used = this.accepted.get(w) ?? 0;
      if (used >= this.o.quota(now)) return this.tooMany((w + 1) * this.windowMs - offset - now, this.o.quota(now));
      this.accepted.set(w, used + 1);
    }
    return ['ok', { kind: 'image', images: [{ data: new Uint8Array([1]), mimeType: 'image/png' }], text: [] }];
  }

  private tooMany(retryAfterMs: number, limit?: number): [SimResult, Outcome] {
    return [
      'quota',
      {
        kind: 'error',
        reason: 'quota',
        httpStatus: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: `You exceeded your current quota. Please retry in ${(retryAfterMs / 1000).toFixed(3)}s.`,
        retryAfterMs,
        quotaId: this.o.quotaId ?? 'GenerateRequestsPerMinutePerProjectPerModel',
        ...(this.o.statesLimit && limit !== undefined ? { quotaLimit: limit } : {}),
      },
    ];
  }

  /** Accepted requests in each fixed window, index = window number. */
  acceptedPerWindow(): number[] {
    return this.perWindow('ok');
  }

  perWindow(result: SimResult): number[] {
    const out: number[] = [];
    for (const r of this.log) {
      if (r.result !== result) continue;
      const w = Math.floor((r.at + (this.o.windowOffsetMs ?? 0)) / this.windowMs);
      while (out.length <= w) out.push(0);
      out[w]!++;
    }
    return out;
  }

  count(result: SimResult): number {
    return this.log.filter((r) => r.result === result).length;
  }
}
