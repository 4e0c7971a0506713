// Issue 3 benchmark, "Ride the quota": the seed's pattern against generateImages() with a known and with a
// discovered quota, side by side on the same emulator profiles. Everything is measured in emulated time.
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { generateImages } from '../src/run.ts';
import { startRemoteEmulator } from './lib/remote-emulator.ts';
import { emulatedRetryInfo, scaledClock } from './lib/scaled.ts';
import { fmt, seededRandom } from './lib/stats.ts';
import { summarise } from './quota-table.ts';
import type { QuotaRow } from './quota-table.ts';
import { runVirtual } from './virtual.ts';
import { emulatorOptions, makespanBound, quotaProfiles } from './quota-profiles.ts';
import type { QuotaProfile } from './quota-profiles.ts';
import { runSeedPattern } from './seed-pattern.ts';
import type { Runner, RunMetrics } from './lib/types.ts';

export const RUNNERS: readonly Runner[] = ['seed-pattern', 'imagebatch known', 'imagebatch discovered'];

/** The seed's semaphore, and our ceiling: high enough that the quota, not the ceiling, binds (300 RPM × 20 s = 100). */
const CONCURRENCY: Record<Runner, number> = { 'seed-pattern': 5, 'imagebatch known': 128, 'imagebatch discovered': 128 };
const API_KEY = 'bench-key';

export interface QuotaBenchOptions {
  /** Jobs per run. @default 1000 */
  n?: number;
  /** Runs per (profile, imagebatch runner); medians are reported. @default 3 */
  reps?: number;
  /** Runs of the seed pattern, the longest runner (its medians come from these). @default 1 */
  seedReps?: number;
  /**
   * Real seconds a run should take: each run's timeScale is chosen from its bound. Below ~30 s a few real
   * milliseconds of HTTP become hundreds of emulated ones and the emulator half measures the compression (slow start
   * keeps starting after the quota ran out), not the scheduler. @default 30
   */
  targetRealS?: number;
  /** Only profiles whose name contains this. @default all */
  profileFilter?: string;
  /** One line per finished run. @default console.error */
  log?: (line: string) => void;
  /** Also run every profile against the emulator (false: virtual time only). @default true */
  emulator?: boolean;
  /** The virtual known runner's rateSpeedUp (the emulator's goes through generateImages, which keeps the pool's). @default the pool's */
  rateSpeedUp?: number;
}


async function runImagebatch(
  p: QuotaProfile,
  runner: Runner,
  url: string,
  scale: number,
  seed: number,
  signal: AbortSignal,
): Promise<{ succeeded: number; clientInsidePause: number }> {
  const known = runner === 'imagebatch known' ? p.quota[0]!.requestsPerMinute : undefined;
  const prompts = Array.from({ length: p.n }, (_, i) => `bench prompt ${i}`);
  let succeeded = 0;
  // The emulator counts every arrival before a deadline it announced, including requests that were already on
  // their way when the 429 went out; the client's own events tell whether it ever started one while it knew.
  let pauseUntil = Number.NEGATIVE_INFINITY;
  let clientInsidePause = 0;
  // The client runs on emulated time (see lib/scaled.ts): the quota is passed as it is, per emulated minute,
  // which is quota / timeScale per real minute.
  for await (const r of generateImages(prompts, {
    apiKey: API_KEY,
    baseUrl: url,
    concurrency: CONCURRENCY[runner],
    requestsPerMinute: known,
    imagesPerMinute: known,
    clock: scaledClock(scale),
    fetch: emulatedRetryInfo(scale),
    random: seededRandom(seed),
    signal,
    onEvent: (e) => {
      if (e.type === 'paused') pauseUntil = Math.max(pauseUntil, e.untilMs);
      else if (e.type === 'started' && e.at < pauseUntil) clientInsidePause++;
    },
  })) {
    if (r.status === 'succeeded') succeeded++;
  }
  return { succeeded, clientInsidePause };
}

async function runOnce(p: QuotaProfile, runner: Runner, rep: number, targetRealS: number): Promise<RunMetrics> {
  const boundS = makespanBound(p, CONCURRENCY[runner]);
  // Thousands of requests in a few real seconds would measure this machine's HTTP, not the scheduler: slower then.
  const realS = Math.max(targetRealS, p.maxRealRps ? p.n / p.maxRealRps : 0);
  const scale = Number(((realS * 1000) / (boundS * 1000)).toPrecision(2));
  const seed = 1 + rep;
  const load = loadavg()[0] ?? Number.NaN;
  const schedule = p.quota.slice(1).map((q) => ({
    atRealMs: q.atS * 1000 * scale,
    quota: { requestsPerMinute: q.requestsPerMinute, imagesPerMinute: q.requestsPerMinute },
  }));
  const emu = await startRemoteEmulator(emulatorOptions(p, scale, seed), schedule);
  // A run that stalls is cut off (and shows up as missing successes) rather than hanging the whole bench.
  const guard = new AbortController();
  const stall = setTimeout(() => guard.abort(new Error('bench run took 8× its target')), realS * 8000);
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const start = performance.now();
  let succeeded = 0;
  let clientInsidePause = Number.NaN;
  try {
    if (runner === 'seed-pattern') {
      const prompts = Array.from({ length: p.n }, (_, i) => `bench prompt ${i}`);
      succeeded = (await runSeedPattern(prompts, { baseUrl: emu.url, apiKey: API_KEY, timeScale: scale, signal: guard.signal })).succeeded;
    } else {
      ({ succeeded, clientInsidePause } = await runImagebatch(p, runner, emu.url, scale, seed, guard.signal));
    }
  } catch (e) {
    if (!guard.signal.aborted) throw e;
  }
  const end = performance.now();
  lag.disable();
  clearTimeout(stall);
  const c = await emu.counters();
  await emu.close();
  return {
    profile: p.name,
    runner,
    timeScale: scale,
    makespanS: (end - start) / scale / 1000,
    boundS,
    succeeded,
    requests: c.byRoute.generateContent ?? 0,
    quota429: c.byStatus['429'] ?? 0,
    insidePause: c.startsInsidePause,
    clientInsidePause,
    maxInFlight: c.maxInFlight,
    realS: (end - start) / 1000,
    lagP99Ms: lag.percentile(99) / 1e6,
    load,
  };
}

/** Every (profile, runner), interleaved so drift in machine load hits every runner alike; plus the virtual-time runs. */
export async function runQuotaBench(o: QuotaBenchOptions = {}): Promise<{ emulator: QuotaRow[]; virtual: QuotaRow[] }> {
  const n = o.n ?? 1000;
  const reps = o.reps ?? 3;
  const seedReps = o.seedReps ?? 1;
  const target = o.targetRealS ?? 30;
  const log = o.log ?? ((l: string) => console.error(l));
  const emulator: QuotaRow[] = [];
  const virtual: QuotaRow[] = [];
  for (const p of quotaProfiles(n).filter((x) => !o.profileFilter || x.name === o.profileFilter)) {
    const byRunner = new Map<Runner, RunMetrics[]>(RUNNERS.map((r) => [r, []]));
    const virtualRuns = new Map<Runner, RunMetrics[]>(RUNNERS.map((r) => [r, []]));
    for (let rep = 0; rep < reps; rep++) {
      for (const runner of RUNNERS) {
        const v = await runVirtual(p, runner, 1 + rep, o.rateSpeedUp);
        virtualRuns.get(runner)!.push({ ...v, clientInsidePause: Number.NaN, profile: p.name, timeScale: 0, maxInFlight: 0, realS: 0, lagP99Ms: 0, load: 0 });
        if (o.emulator === false || (runner === 'seed-pattern' && rep >= seedReps)) continue;
        const m = await runOnce(p, runner, rep, target);
        byRunner.get(runner)!.push(m);
        log(
          `  ${p.name} | ${runner} #${rep + 1}: ${fmt(m.makespanS, 0)} s emulated (bound ${fmt(m.boundS, 0)}; virtual ${fmt(v.makespanS, 0)}), ` +
            `${m.succeeded}/${p.n} ok, ${m.requests} requests, ${m.quota429} × 429, ${m.insidePause} inside pauses (${m.clientInsidePause} known to the client), max in flight ${m.maxInFlight}, ` +
            `${fmt(m.realS, 1)} s real at scale ${m.timeScale}, loop lag p99 ${fmt(m.lagP99Ms, 1)} ms, load ${fmt(m.load, 1)}`,
        );
      }
    }
    for (const [rows, runs] of [[emulator, byRunner], [virtual, virtualRuns]] as const) {
      if (rows === emulator && o.emulator === false) continue;
      const seed = summarise(runs.get('seed-pattern')!, p.n);
      rows.push(seed);
      for (const runner of RUNNERS.slice(1)) {
        const row = summarise(runs.get(runner)!, p.n);
        row.speedup = seed.makespanS / row.makespanS;
        rows.push(row);
      }
    }
  }
  return { emulator, virtual };
}
