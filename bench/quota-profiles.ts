// The "Ride the quota" profiles (emulated units) and the makespan lower bound each run is compared with.
import type { EmulatorOptions } from '../src/emulator/index.ts';

export interface QuotaPhase {
  /** Emulated seconds since start. */
  atS: number;
  requestsPerMinute: number;
}

export interface QuotaProfile {
  name: string;
  /** Jobs. */
  n: number;
  /** Mean latency, emulated seconds (lognormal, sigma 0.5). */
  latencyS: number;
  /** The quota over time; the first phase starts at 0 and is what a "known" client is told. */
  quota: QuotaPhase[];
  /** Probability of each transient fault kind (500, 503, 504, reset). */
  faultEach?: number;
  /** A window where every request gets 503 at once (emulated seconds). */
  outage?: { startS: number; durationS: number };
  /** Requests per real second a run may ask of the emulator (a run's time scale keeps it under this). @default none */
  maxRealRps?: number;
}

/**
 * The five profiles of issue 3 and the fast one of issue 13. Quota changes and the outage sit at fixed shares of a
 * 60-RPM run (n s). At 1,800 RPM with 0.6-s answers (18 in flight) the run has 6·n jobs and at least three
 * windows' worth (5,400): with about one window's worth, a fixed-window server would never push back and the bound
 * (n / rate) would not be a bound.
 */
export function quotaProfiles(n: number): QuotaProfile[] {
  const t60 = (n * 60) / 60; // emulated seconds a 60-RPM run needs
  return [
    { name: '60 RPM', n, latencyS: 20, quota: [{ atS: 0, requestsPerMinute: 60 }] },
    { name: '300 RPM', n, latencyS: 20, quota: [{ atS: 0, requestsPerMinute: 300 }] },
    { name: '1800 RPM, 0.6 s', n: Math.max(6 * n, 5400), latencyS: 0.6, quota: [{ atS: 0, requestsPerMinute: 1800 }], maxRealRps: 150 },
    {
      name: '60→20→60 RPM',
      n,
      latencyS: 20,
      quota: [
        { atS: 0, requestsPerMinute: 60 },
        { atS: Math.round(0.3 * t60), requestsPerMinute: 20 },
        { atS: Math.round(0.6 * t60), requestsPerMinute: 60 },
      ],
    },
    { name: '60 RPM + 5 % faults', n, latencyS: 20, quota: [{ atS: 0, requestsPerMinute: 60 }], faultEach: 0.0125 },
    { name: '60 RPM + 10 min outage', n, latencyS: 20, quota: [{ atS: 0, requestsPerMinute: 60 }], outage: { startS: Math.round(0.4 * t60), durationS: 600 } },
  ];
}

/** Emulator options for a profile (the first quota phase; later phases are applied with setQuota). */
export function emulatorOptions(p: QuotaProfile, timeScale: number, seed: number): EmulatorOptions {
  const rpm = p.quota[0]!.requestsPerMinute;
  const e = p.faultEach ?? 0;
  return {
    seed,
    timeScale,
    latency: { distribution: 'lognormal', meanMs: p.latencyS * 1000, sigma: 0.5 },
    quota: { requestsPerMinute: rpm, imagesPerMinute: rpm },
    faults: {
      ...(e > 0 ? { http500: e, http503: e, http504: e, reset: e } : {}),
      ...(p.outage ? { outage: { startMs: p.outage.startS * 1000, durationMs: p.outage.durationS * 1000 } } : {}),
    },
  };
}

/**
 * The lower bound on the makespan (emulated seconds): max(N·60/R, N·L/C) + L, generalised to a quota that
 * changes over time (and is 0 during an outage): the time by which ∫ min(R(t)/60, C/L) dt reaches N, plus L.
 */
export function makespanBound(p: QuotaProfile, concurrency: number): number {
  const cap = concurrency / p.latencyS;
  const cuts = new Set<number>(p.quota.map((q) => q.atS));
  if (p.outage) {
    cuts.add(p.outage.startS);
    cuts.add(p.outage.startS + p.outage.durationS);
  }
  const times = [...cuts].sort((a, b) => a - b);
  const rateAt = (t: number): number => {
    if (p.outage && t >= p.outage.startS && t < p.outage.startS + p.outage.durationS) return 0;
    let rpm = 0;
    for (const q of p.quota) if (q.atS <= t) rpm = q.requestsPerMinute;
    return Math.min(rpm / 60, cap);
  };
  let done = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    const end = times[i + 1] ?? Number.POSITIVE_INFINITY;
    const r = rateAt(t);
    if (r > 0 && done + r * (end - t) >= p.n) return t + (p.n - done) / r + p.latencyS;
    done += r * (end - t);
  }
  return Number.POSITIVE_INFINITY;
}
