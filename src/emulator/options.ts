// Emulator options: types, defaults (applied here and only here) and validation that names the bad option.
import type { ResolvedVertexOptions, VertexEmulatorOptions } from './vertex.ts';
import type { Clock } from '../internal/clock.ts';
import { MODELS, isServed } from '../models/index.ts';

/** Every fault the emulator can inject into a generateContent answer. */
export type FaultKind =
  | 'http500'
  | 'http503'
  | 'http504'
  | 'http400'
  | 'reset'
  | 'textOnly'
  | 'imageSafety'
  | 'promptBlock'
  | 'truncated'
  | 'hang'
  /** 429 that is billing, not rate: "Your prepayment credits are depleted…" (no details). */
  | 'billing429'
  /** 429 with no details at all: "Resource has been exhausted (e.g. check quota)." (shared capacity, Vertex). */
  | 'bare429'
  /** 503 UNAVAILABLE "No capacity available for model … on the server" with ErrorInfo MODEL_CAPACITY_EXHAUSTED. */
  | 'capacity503';

export const FAULT_KINDS: readonly FaultKind[] = [
  'http500',
  'http503',
  'http504',
  'http400',
  'reset',
  'textOnly',
  'imageSafety',
  'promptBlock',
  'truncated',
  'hang',
  'billing429',
  'bare429',
  'capacity503',
];

/** Emulated latency of one generateContent call (emulated ms; multiplied by timeScale for real time). */
export interface LatencyOptions {
  /** @default 'fixed' */
  distribution: 'fixed' | 'uniform' | 'lognormal';
  /** Mean latency in emulated ms. @default 0 */
  meanMs: number;
  /** Lower clamp (uniform: lower bound). @default 0 */
  minMs?: number;
  /** Upper clamp (uniform: upper bound). @default 2 × meanMs for uniform, unbounded otherwise */
  maxMs?: number;
  /** Lognormal shape parameter. @default 0.5 */
  sigma?: number;
}

/** Quotas, counted per model in fixed windows from emulator start (windows are scaled by timeScale). */
export interface QuotaOptions {
  /** Accepted generate requests per 60 s window. @default undefined (unlimited) */
  requestsPerMinute?: number;
  /** Images per 60 s window (one per accepted request that asks for IMAGE). @default undefined (unlimited) */
  imagesPerMinute?: number;
  /** Accepted generate requests per 24 h window. @default undefined (unlimited) */
  requestsPerDay?: number;
  /** Generate requests in flight at once; more get 503 UNAVAILABLE. @default undefined (unlimited) */
  concurrency?: number;
}

export interface ScriptedFault {
  /** Substring of the prompt text (case-sensitive). */
  match: string;
  fault: FaultKind;
  /** How many matching requests get the fault. @default 1 */
  times?: number;
}

export interface OutageOptions {
  /** Start, in emulated ms since emulator start. */
  startMs: number;
  /** Length in emulated ms. */
  durationMs: number;
  /** HTTP status every request in the window gets. @default 503 */
  status?: number;
}

/** Seeded per-request fault probabilities (0..1 each, sum ≤ 1), scripted faults and an outage window. */
export type FaultOptions = { [K in FaultKind]?: number } & {
  /** @default [] */
  scripted?: ScriptedFault[];
  /** @default undefined (no outage) */
  outage?: OutageOptions;
};

export interface BatchOptions {
  /** Emulated ms a new batch stays PENDING. @default 200 */
  pendingMs?: number;
  /** Emulated ms of RUNNING per request. @default 1 */
  msPerRequest?: number;
  /** The whole job ends FAILED instead of SUCCEEDED. @default false */
  failJob?: boolean;
  /** The job goes EXPIRED after PENDING instead of running. @default false */
  expire?: boolean;
  /** Every Nth request (1-based) gets a per-line error {code: 13}. @default undefined (none) */
  lineErrorEvery?: number;
  /**
   * A folder (the caller's; it must exist) where each results file is written while its first download renders
   * it, and served from on every download after, with a Content-Length. Benchmarks use it so a download costs the emulator
   * a file read instead of a PNG render per line. @default undefined (rendered line by line on every download)
   */
  spoolDir?: string;
}

export interface EmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (ephemeral) */
  port?: number;
  /** When set, only this key is accepted; when unset, any non-empty key passes. @default undefined */
  apiKey?: string;
  /** Seed of every random choice (latency, faults, ids). @default 1 */
  seed?: number;
  /**
   * Real ms per emulated ms: latency, quota windows, RetryInfo delays and batch timing are all multiplied by it.
   * RetryInfo and "Please retry in" report the REAL (scaled) remaining time, so a client that honours them
   * waits the right real time. @default 1
   */
  timeScale?: number;
  /** @default { distribution: 'fixed', meanMs: 0 } */
  latency?: LatencyOptions;
  /** @default {} (unlimited) */
  quota?: QuotaOptions;
  /** @default {} (no faults) */
  faults?: FaultOptions;
  /** Send a Retry-After header on 429 (Google does not). @default false */
  retryAfterHeader?: boolean;
  /**
   * Gzip generateContent answers for clients that accept it, as the real API does (`Content-Encoding: gzip`); at
   * level 1 here, to spare the CPU (the level does not matter to a client). @default false
   */
  gzip?: boolean;
  /** Pad each final image to about this many bytes (0 = no padding). @default 0 */
  imageBytes?: number;
  /**
   * Characters of the thoughtSignature on a thinking model's final image, rounded up to whole base64 quads (real
   * ones reach a million characters). @default 88
   */
  thoughtSignatureChars?: number;
  /** Known model ids. @default DEFAULT_MODELS: the registry's served models (src/models) and a text model */
  models?: string[];
  /**
   * The caller's project used models that are now closed to new users (`restricted` in the model registry), so
   * they still answer; otherwise they 404 "no longer available to new users" as for a new project. @default false
   */
  existingUser?: boolean;
  /** Batch API lifecycle timing. @default { pendingMs: 200, msPerRequest: 1 } */
  batch?: BatchOptions;
  /** Vertex AI routes, bearer tokens, the GCE metadata server and Vertex's errors. @default {} (see VertexEmulatorOptions) */
  vertex?: VertexEmulatorOptions;
  /** One line per request (never contains the API key). @default undefined (silent) */
  log?: (line: string) => void;
  /**
   * Real time source for quota windows, outages, latency sleeps and batch lifecycles. Tests pass a FakeClock
   * to make windows exact. @default a monotonic clock (performance.now) with real sleeps
   */
  clock?: Clock;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  apiKey: string | undefined;
  seed: number;
  timeScale: number;
  latency: Required<Pick<LatencyOptions, 'distribution' | 'meanMs' | 'minMs' | 'sigma'>> & { maxMs: number };
  quota: QuotaOptions;
  faults: FaultOptions;
  retryAfterHeader: boolean;
  gzip: boolean;
  imageBytes: number;
  thoughtSignatureChars: number;
  models: string[];
  existingUser: boolean;
  batch: Required<Omit<BatchOptions, 'lineErrorEvery' | 'spoolDir'>> & { lineErrorEvery: number | undefined; spoolDir: string | undefined };
  vertex: ResolvedVertexOptions;
  log: ((line: string) => void) | undefined;
  clock: Clock;
}

/** Every model the registry says is still served, plus one text-only model for non-image requests. */
export const DEFAULT_MODELS: readonly string[] = [...MODELS.filter(isServed).map((m) => m.id), 'gemini-2.5-flash'];

/** A bad emulator option: names the option and the value received. */
export class EmulatorOptionError extends Error {
  readonly option: string;
  readonly value: unknown;
  constructor(option: string, value: unknown, expected: string) {
    super(`emulator option ${option}: expected ${expected}, got ${show(value)}`);
    this.name = 'EmulatorOptionError';
    this.option = option;
    this.value = value;
  }
}

function show(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  try {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return typeof v;
  }
}

/**
 * The offline demo's profile: lognormal latency of roughly 300–1500 emulated ms (at timeScale 1 the demo
 * takes a few seconds), and one text-only answer for the first prompt mentioning "cat", so the client's
 * no-image retry shows up. No other faults.
 */
export function demoProfile(): EmulatorOptions {
  return {
    latency: { distribution: 'lognormal', meanMs: 700, minMs: 300, maxMs: 1500, sigma: 0.5 },
    faults: { scripted: [{ match: 'cat', fault: 'textOnly', times: 1 }] },
  };
}
