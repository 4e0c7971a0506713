// `imagebatch quota status`: the group's live state, read in one MULTI with Redis's own TIME (read-only).
import type { Redis } from 'ioredis';
import { modelKeys, modelsKey } from './keys.ts';

export interface ModelQuotaStatus {
  model: string;
  /** Remaining pause (ms), when one is on. */
  pauseMs?: number;
  /** Leases booked or in flight, by "host/pid". */
  leases: Record<string, number>;
  /** Attempts started in the last window. */
  startedLastWindow: number;
  /** 429s answered in the last window. */
  quota429LastWindow: number;
  /** Adaptive in-flight limit, when the rate is unknown and AIMD runs. */
  adaptiveLimit?: number;
  /** Requests per minute learned from 429s. */
  learnedRpm?: number;
  /** How far ahead the request / image rate is booked (ms): > 0 means the rate holds the group back. */
  bookedAheadMs: { requests?: number; images?: number };
  /** A run-level stop every process sees (daily quota, billing). */
  stop?: string;
}

export interface QuotaStatus {
  group: string;
  models: ModelQuotaStatus[];
}

export async function readStatus(client: Redis, group: string, windowMs = 60_000): Promise<QuotaStatus> {
  const models = (await client.smembers(modelsKey(group))).sort();
  const out: QuotaStatus = { group, models: [] };
  for (const model of models) {
    const [tatR, tatI, , pause, leases, log, aimd, stop, r429] = modelKeys(group, model);
    const r = await client
      .multi()
      .time()
      .get(tatR!)
      .get(tatI!)
      .get(pause!)
      .zrange(leases!, '0', '-1', 'WITHSCORES')
      .zrange(log!, '0', '-1', 'WITHSCORES')
      .hgetall(aimd!)
      .get(stop!)
      .zrange(r429!, '0', '-1', 'WITHSCORES')
      .exec();
    if (!r) continue;
    const v = r.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    const [t, tr, ti, p, ls, lg, a, s, q] = v as [[string, string], string | null, string | null, string | null, string[], string[], Record<string, string>, string | null, string[]];
    const now = Number(t[0]) * 1000 + Number(t[1]) / 1000;
    const byHolder: Record<string, number> = {};
    for (let i = 0; i < ls.length; i += 2) {
      if (Number(ls[i + 1]) <= now) continue;
      const holder = ls[i]!.replace(/\/[\d.]+#.*$/, '');
      byHolder[holder] = (byHolder[holder] ?? 0) + 1;
    }
    const since = (pairs: string[]) => {
      let n = 0;
      for (let i = 1; i < pairs.length; i += 2) if (Number(pairs[i]) > now - windowMs) n++;
      return n;
    };
    const ahead = (x: string | null) => (x === null ? undefined : Math.max(0, Number(x) - now));
    out.models.push({
      model,
      pauseMs: p !== null && Number(p) > now ? Number(p) - now : undefined,
      leases: byHolder,
      startedLastWindow: since(lg),
      quota429LastWindow: since(q),
      adaptiveLimit: a.limit !== undefined ? Math.floor(Number(a.limit) + 1e-9) : undefined,
      learnedRpm: a.rate !== undefined ? Number(a.rate) : undefined,
      bookedAheadMs: { requests: ahead(tr), images: ahead(ti) },
      stop: s ?? undefined,
    });
  }
  return out;
}
