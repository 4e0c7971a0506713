// The same quota profiles in VIRTUAL time: the pool (src/scheduler) and the seed pattern against a small simulated
// Gemini on a FakeClock. No HTTP, no timers, no machine noise: what the algorithms do, deterministically. Set side by
// side with the emulator runs, the difference is what the machine's timing added.
import { FakeClock, flushMicrotasks } from '../src/internal/clock.ts';
import { runPool } from '../src/scheduler/index.ts';
import type { AttemptContext } from '../src/scheduler/index.ts';
import type { Outcome } from '../src/types.ts';
import { seededRandom } from './lib/stats.ts';
import type { QuotaProfile } from './quota-profiles.ts';
import { makespanBound } from './quota-profiles.ts';
import type { Runner } from './lib/types.ts';

const W = 60_000;
const RPM_ID = 'GenerateRequestsPerMinutePerProjectPerModel';

export interface VirtualRun {
  runner: Runner;
  makespanS: number;
  boundS: number;
  requests: number;
  quota429: number;
  insidePause: number;
  succeeded: number;
}

/** Fixed per-minute windows from t = 0, lognormal latency, seeded transient faults, an outage window. */
class SimGemini {
  requests = 0;
  quota429 = 0;
  insidePause = 0;
  private window = -1;
  private used = 0;
  private pauseUntil = 0;
  private readonly rnd: () => number;

  constructor(
    private readonly p: QuotaProfile,
    private readonly clock: FakeClock,
    seed: number,
  ) {
    this.rnd = seededRandom(seed);
  }

  private rpmAt(t: number): number {
    let rpm = 0;
    for (const q of this.p.quota) if (q.atS * 1000 <= t) rpm = q.requestsPerMinute;
    return rpm;
  }

  private latency(): number {
    const sigma = 0.5;
    const u = 1 - this.rnd();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rnd());
    return Math.exp(Math.log(this.p.latencyS * 1000) - (sigma * sigma) / 2 + sigma * z);
  }

  async call(signal?: AbortSignal): Promise<Outcome> {
    const now = this.clock.now();
    this.requests++;
    if (now < this.pauseUntil) this.insidePause++;
    const o = this.p.outage;
    if (o && now >= o.startS * 1000 && now < (o.startS + o.durationS) * 1000) {
      return { kind: 'error', reason: 'server', httpStatus: 503, message: 'The model is overloaded.' };
    }
    const w = Math.floor(now / W);
    if (w !== this.window) [this.window, this.used] = [w, 0];
    if (this.used >= this.rpmAt(now)) {
      this.quota429++;
      const retryAfterMs = (w + 1) * W - now;
      this.pauseUntil = Math.max(this.pauseUntil, now + retryAfterMs);
      return { kind: 'error', reason: 'quota', httpStatus: 429, message: 'quota', retryAfterMs, quotaId: RPM_ID, quotaLimit: this.rpmAt(now) };
    }
    this.used++;
    const fault = this.rnd() < 4 * (this.p.faultEach ?? 0) ? Math.floor(this.rnd() * 4) : -1;
    await this.clock.sleep(this.latency(), signal).catch(() => undefined);
    if (fault === 3) return { kind: 'error', reason: 'network', message: 'connection reset' };
    if (fault >= 0) return { kind: 'error', reason: 'server', httpStatus: [500, 503, 504][fault], message: 'fault' };
    return { kind: 'image', images: [{ data: new Uint8Array(1), mimeType: 'image/png' }], text: [] };
  }
}

/** Advances the fake clock to each next sleeper until `work` settles. */
async function drive<T>(clock: FakeClock, work: Promise<T>): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    await flushMicrotasks();
    if (settled) break;
    const next = clock.nextAt();
    if (next === undefined) throw new Error(`virtual run stalled at t=${clock.now()}`);
    await clock.advanceTo(next);
  }
  return work;
}

async function seedPattern(p: QuotaProfile, sim: SimGemini, clock: FakeClock): Promise<number> {
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < p.n) {
      next++;
      for (let n = 0; ; n++) {
        const out = await sim.call();
        if (out.kind === 'image') {
          ok++;
          break;
        }
        if (n >= 3) break;
        await clock.sleep(2 ** n * 1000);
      }
    }
  };
  await Promise.all(Array.from({ length: 5 }, worker));
  return ok;
}

export async function runVirtual(p: QuotaProfile, runner: Runner, seed: number, rateSpeedUp?: number): Promise<VirtualRun> {
  const clock = new FakeClock(0);
  const sim = new SimGemini(p, clock, seed);
  let succeeded: number;
  if (runner === 'seed-pattern') {
    succeeded = await drive(clock, seedPattern(p, sim, clock));
  } else {
    const known = runner === 'imagebatch known' ? p.quota[0]!.requestsPerMinute : undefined;
    const pool = runPool(
      Array.from({ length: p.n }, (_, i) => i),
      {
        attempt: (_job: number, ctx: AttemptContext) => sim.call(ctx.signal),
        concurrency: 128,
        requestsPerMinute: known,
        imagesPerMinute: known,
        ...(rateSpeedUp === undefined ? {} : { rateSpeedUp }),
        clock,
        random: seededRandom(1000 + seed),
      },
    );
    succeeded = await drive(
      clock,
      (async () => {
        let ok = 0;
        for await (const s of pool) if (s.outcome.kind === 'image') ok++;
        return ok;
      })(),
    );
  }
  return {
    runner,
    makespanS: clock.now() / 1000,
    boundS: makespanBound(p, runner === 'seed-pattern' ? 5 : 128),
    requests: sim.requests,
    quota429: sim.quota429,
    insidePause: sim.insidePause,
    succeeded,
  };
}
