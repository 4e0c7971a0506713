// Issue 15 benchmark: Vertex AI's dynamic shared quota. Above a capacity the client cannot see, Vertex answers a
// share of requests with a bare 429 (no QuotaFailure, no RetryInfo). The run must finish every prompt and lose
// little time to it: its makespan beside the same run on the same server without those 429s, in one run, in
// emulated time (lib/scaled.ts), with the emulator in its own process.
import { performance } from 'node:perf_hooks';
import { generateImages } from '../src/run.ts';
import { vertexBackend } from '../src/vertex/backend.ts';
import { DEFAULT_MODEL } from '../src/models/index.ts';
import { startRemoteEmulator } from './lib/remote-emulator.ts';
import { scaledClock } from './lib/scaled.ts';
import { fmt, markdownTable, median, seededRandom } from './lib/stats.ts';

export interface VertexBenchOptions {
  /** Prompts per run. @default 400 */
  n?: number;
  /** Runs per cell; medians are reported. @default 3 */
  reps?: number;
  /** Real seconds a run without 429s should take: the client's and the emulator's CPU per request counts 1/scale times
   * in emulated time, so a longer real run distorts less on a busy machine. @default 12 */
  realSeconds?: number;
  /** One line per finished run. @default stderr */
  log?: (line: string) => void;
}

interface Profile {
  /** In-flight requests above which Vertex refuses a share of new ones. */
  hidden: number;
  /** Our concurrency ceiling. */
  ceiling: number;
  /** Share of requests above `hidden` refused with the bare 429. */
  probability: number;
  /** Emulated ms per answer. */
  latencyMs: number;
}

const PROFILES: Profile[] = [
  { hidden: 4, ceiling: 8, probability: 0.3, latencyMs: 8000 },
  { hidden: 8, ceiling: 16, probability: 0.3, latencyMs: 8000 },
  { hidden: 16, ceiling: 32, probability: 0.3, latencyMs: 2000 },
];

interface Run {
  makespanS: number;
  succeeded: number;
  requests: number;
  r429: number;
  maxInFlight: number;
}

async function runOnce(p: Profile, overload: boolean, n: number, seed: number, realSeconds: number): Promise<Run> {
  // About `realSeconds` per run without the 429s, whatever the profile.
  const boundS = (Math.ceil(n / p.ceiling) * p.latencyMs) / 1000;
  const scale = Number((realSeconds / boundS).toPrecision(2));
  const emu = await startRemoteEmulator({
    seed,
    timeScale: scale,
    apiKey: 'bench-key',
    models: [DEFAULT_MODEL],
    latency: { distribution: 'fixed', meanMs: p.latencyMs },
    vertex: overload ? { overload: { concurrency: p.hidden, probability: p.probability } } : {},
  });
  try {
    const backend = await vertexBackend({ apiKey: 'bench-key', baseUrl: emu.url, env: {} });
    const prompts = Array.from({ length: n }, (_, i) => `vertex bench ${i}`);
    const start = performance.now();
    let succeeded = 0;
    for await (const r of generateImages(prompts, { backend, model: DEFAULT_MODEL, concurrency: p.ceiling, maxAttempts: 20, clock: scaledClock(scale), random: seededRandom(seed) })) {
      if (r.status === 'succeeded') succeeded++;
    }
    const makespanS = (performance.now() - start) / scale / 1000;
    const c = await emu.counters();
    return { makespanS, succeeded, requests: c.byRoute['vertexExpress.generateContent'] ?? 0, r429: c.byStatus['429'] ?? 0, maxInFlight: c.maxInFlight };
  } finally {
    await emu.close();
  }
}

/** Markdown table: each profile with and without the bare 429s, side by side, medians over `reps` interleaved runs. */
export async function runVertexBench(o: VertexBenchOptions = {}): Promise<string> {
  const n = o.n ?? 400;
  const reps = o.reps ?? 3;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const rows: string[][] = [];
  for (const p of PROFILES) {
    const clean: Run[] = [];
    const loaded: Run[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // Interleaved, so drift in the machine's load hits both alike.
      for (const overload of [false, true]) {
        const r = await runOnce(p, overload, n, 1 + rep, o.realSeconds ?? 12);
        (overload ? loaded : clean).push(r);
        log(`  vertex hidden ${p.hidden} ceiling ${p.ceiling} ${overload ? 'with' : 'without'} 429s #${rep + 1}: ${fmt(r.makespanS, 0)} s, ${r.succeeded}/${n} ok, ${r.requests} requests, ${r.r429} × 429, max in flight ${r.maxInFlight}`);
      }
    }
    const med = (runs: Run[], f: (r: Run) => number) => median(runs.map(f));
    const base = med(clean, (r) => r.makespanS);
    const with429 = med(loaded, (r) => r.makespanS);
    rows.push([
      `${p.hidden} of ${p.ceiling}, ${Math.round(p.probability * 100)} %, ${p.latencyMs / 1000} s answers`,
      `${fmt(base, 0)} s`,
      `${fmt(with429, 0)} s`,
      `${fmt(with429 / base, 2)}×`,
      `${fmt(med(loaded, (r) => (r.r429 / Math.max(1, r.requests)) * 1000), 0)}`,
      `${med(loaded, (r) => r.succeeded)}/${n}`,
      `${med(loaded, (r) => r.maxInFlight)}`,
    ]);
  }
  return markdownTable(['hidden capacity of ceiling, refused share, latency', 'makespan without 429s', 'with bare 429s', 'ratio (target ≤ 1.30×)', '429s per 1000 requests', 'succeeded', 'max in flight'], rows);
}
