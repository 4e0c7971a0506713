// The emulator's shared state: resolved options, seeded streams, clocks, counters, quota, faults, stores.
import { BatchStore } from './batches.ts';
import { CounterStore } from './counters.ts';
import { FaultPlan } from './faults.ts';
import { FileStore } from './files.ts';
import { modelRefusal } from './models.ts';
import type { ResolvedOptions } from './options.ts';
import { QuotaTracker } from './quota.ts';
import type { Rng } from './random.ts';
import { stream } from './random.ts';
import { VertexAuth } from './vertex.ts';

export class EmulatorState {
  readonly counters = new CounterStore();
  readonly quota: QuotaTracker;
  readonly faults: FaultPlan;
  readonly files: FileStore;
  readonly batches: BatchStore;
  /** Real time (options.clock) the quota windows, outage and elapsed time count from. */
  readonly startReal: number;
  /** Aborted on close(): every pending latency sleep ends at once. */
  readonly closing = new AbortController();
  readonly ids: Rng;
  /** Tokens the metadata server issued and the bearer checks of the Vertex routes. */
  readonly vertexAuth: VertexAuth;
  /** Seeded draws of the Vertex overload answer. */
  readonly overloadRng: Rng;
  private readonly latencyRng: Rng;
  baseUrl = '';

  constructor(readonly options: ResolvedOptions) {
    this.startReal = options.clock.now();
    this.ids = stream(options.seed, 'ids');
    this.latencyRng = stream(options.seed, 'latency');
    this.overloadRng = stream(options.seed, 'vertex-overload');
    // JWT expiry is wall-clock time by definition; the emulator's own clock is monotonic.
    this.vertexAuth = new VertexAuth(options.vertex, () => this.now(), () => Date.now(), options.apiKey);
    this.quota = new QuotaTracker(options.quota, this.startReal, options.timeScale);
    this.faults = new FaultPlan(options.faults, stream(options.seed, 'faults'));
    this.files = new FileStore({ rng: this.ids, baseUrl: () => this.baseUrl, counters: this.counters, spoolDir: options.batch.spoolDir });
    this.batches = new BatchStore({
      options,
      rng: this.ids,
      faults: this.faults,
      files: this.files,
      counters: this.counters,
      now: () => this.now(),
      modelRefusal: (m, method, v) => modelRefusal(this.options, m, method, v),
    });
  }

  /** Real ms on the (injectable) monotonic clock. */
  now(): number {
    return this.options.clock.now();
  }

  /** Emulated ms since start. */
  elapsedEmulated(now = this.now()): number {
    return (now - this.startReal) / this.options.timeScale;
  }

  /** In the emulator's line-up (the Gemini API routes also apply the registry's 404 rules: models.ts). */
  knownModel(id: string): boolean {
    return this.options.models.includes(id);
  }

  /** One latency draw, in emulated ms. */
  drawLatency(): number {
    const l = this.options.latency;
    let ms: number;
    if (l.distribution === 'fixed') ms = l.meanMs;
    else if (l.distribution === 'uniform') ms = l.minMs + this.latencyRng.next() * (l.maxMs - l.minMs);
    else {
      // meanMs is the mean of the lognormal, so mu = ln(mean) - sigma²/2.
      const mu = Math.log(Math.max(l.meanMs, 1e-6)) - (l.sigma * l.sigma) / 2;
      ms = Math.exp(mu + l.sigma * this.latencyRng.normal());
    }
    return Math.min(l.maxMs, Math.max(l.minMs, ms));
  }

  /** Sleeps an emulated duration on the scaled clock; rejects when `signal` or the emulator closes. */
  sleepEmulated(ms: number, signal: AbortSignal): Promise<void> {
    const real = ms * this.options.timeScale;
    if (real <= 0) return Promise.resolve();
    return this.options.clock.sleep(real, AbortSignal.any([signal, this.closing.signal]));
  }

  log(line: string): void {
    this.options.log?.(line);
  }
}
