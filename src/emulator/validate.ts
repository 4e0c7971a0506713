// Option validation: defaults applied once, every field checked, errors that name the option and the value.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../internal/clock.ts';
import { abortableSleep } from '../internal/clock.ts';
import { DEFAULT_MODEL } from '../models/index.ts';
import type { EmulatorOptions, FaultKind, FaultOptions, QuotaOptions, ResolvedOptions } from './options.ts';
import { DEFAULT_MODELS, EmulatorOptionError, FAULT_KINDS } from './options.ts';
import { resolveVertexOptions } from './vertex.ts';

const monotonicClock: Clock = { now: () => performance.now(), sleep: abortableSleep };

function num(option: string, v: unknown, opts: { min?: number; max?: number; integer?: boolean; gt?: number } = {}): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (opts.min === undefined || v >= opts.min) &&
    (opts.max === undefined || v <= opts.max) &&
    (opts.gt === undefined || v > opts.gt) &&
    (!opts.integer || Number.isInteger(v));
  if (!ok) {
    const parts = [opts.integer ? 'an integer' : 'a finite number'];
    if (opts.gt !== undefined) parts.push(`> ${opts.gt}`);
    if (opts.min !== undefined) parts.push(`>= ${opts.min}`);
    if (opts.max !== undefined) parts.push(`<= ${opts.max}`);
    throw new EmulatorOptionError(option, v, parts.join(' '));
  }
  return v;
}

function optNum(option: string, v: unknown, opts: Parameters<typeof num>[2] = {}): number | undefined {
  return v === undefined ? undefined : num(option, v, opts);
}

function bool(option: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new EmulatorOptionError(option, v, 'a boolean');
  return v;
}

export function validateQuota(q: unknown, prefix = 'quota'): QuotaOptions {
  if (q === undefined) return {};
  if (typeof q !== 'object' || q === null) throw new EmulatorOptionError(prefix, q, 'an object');
  const r = q as Record<string, unknown>;
  const out: QuotaOptions = {};
  for (const k of ['requestsPerMinute', 'imagesPerMinute', 'requestsPerDay'] as const) {
    const v = optNum(`${prefix}.${k}`, r[k], { min: 0, integer: true });
    if (v !== undefined) out[k] = v;
  }
  const c = optNum(`${prefix}.concurrency`, r.concurrency, { min: 1, integer: true });
  if (c !== undefined) out.concurrency = c;
  return out;
}

export function validateFaults(f: unknown, prefix = 'faults'): FaultOptions {
  if (f === undefined) return {};
  if (typeof f !== 'object' || f === null) throw new EmulatorOptionError(prefix, f, 'an object');
  const r = f as Record<string, unknown>;
  const out: FaultOptions = {};
  let sum = 0;
  for (const k of FAULT_KINDS) {
    const v = optNum(`${prefix}.${k}`, r[k], { min: 0, max: 1 });
    if (v !== undefined) {
      out[k] = v;
      sum += v;
    }
  }
  if (sum > 1 + 1e-9) throw new EmulatorOptionError(prefix, f, 'fault probabilities that sum to at most 1');
  if (r.scripted !== undefined) {
    if (!Array.isArray(r.scripted)) throw new EmulatorOptionError(`${prefix}.scripted`, r.scripted, 'an array');
    out.scripted = r.scripted.map((s: unknown, i) => {
      const p = `${prefix}.scripted[${i}]`;
      if (typeof s !== 'object' || s === null) throw new EmulatorOptionError(p, s, 'an object');
      const e = s as Record<string, unknown>;
      if (typeof e.match !== 'string') throw new EmulatorOptionError(`${p}.match`, e.match, 'a string');
      if (!FAULT_KINDS.includes(e.fault as FaultKind)) throw new EmulatorOptionError(`${p}.fault`, e.fault, `one of ${FAULT_KINDS.join(', ')}`);
      const times = optNum(`${p}.times`, e.times, { min: 0, integer: true }) ?? 1;
      return { match: e.match, fault: e.fault as FaultKind, times };
    });
  }
  if (r.outage !== undefined) {
    const o = r.outage as Record<string, unknown>;
    if (typeof o !== 'object' || o === null) throw new EmulatorOptionError(`${prefix}.outage`, o, 'an object');
    const status = optNum(`${prefix}.outage.status`, o.status, { min: 400, max: 599, integer: true }) ?? 503;
    out.outage = {
      startMs: num(`${prefix}.outage.startMs`, o.startMs, { min: 0 }),
      durationMs: num(`${prefix}.outage.durationMs`, o.durationMs, { min: 0 }),
      status,
    };
  }
  return out;
}

function validateLatency(l: unknown): ResolvedOptions['latency'] {
  if (l === undefined) return { distribution: 'fixed', meanMs: 0, minMs: 0, maxMs: Infinity, sigma: 0.5 };
  if (typeof l !== 'object' || l === null) throw new EmulatorOptionError('latency', l, 'an object');
  const r = l as Record<string, unknown>;
  const distribution = r.distribution ?? 'fixed';
  if (distribution !== 'fixed' && distribution !== 'uniform' && distribution !== 'lognormal') {
    throw new EmulatorOptionError('latency.distribution', distribution, "'fixed', 'uniform' or 'lognormal'");
  }
  const meanMs = num('latency.meanMs', r.meanMs ?? 0, { min: 0 });
  const minMs = optNum('latency.minMs', r.minMs, { min: 0 }) ?? 0;
  const maxMs = optNum('latency.maxMs', r.maxMs, { min: 0 }) ?? (distribution === 'uniform' ? 2 * meanMs : Infinity);
  if (maxMs < minMs) throw new EmulatorOptionError('latency.maxMs', maxMs, `a value >= latency.minMs (${minMs})`);
  const sigma = optNum('latency.sigma', r.sigma, { gt: 0 }) ?? 0.5;
  return { distribution, meanMs, minMs, maxMs, sigma };
}

function optDir(option: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new EmulatorOptionError(option, v, 'a folder path');
  return v;
}

function validateBatch(b: unknown): ResolvedOptions['batch'] {
  const r = (b ?? {}) as Record<string, unknown>;
  if (typeof r !== 'object' || r === null) throw new EmulatorOptionError('batch', b, 'an object');
  return {
    pendingMs: optNum('batch.pendingMs', r.pendingMs, { min: 0 }) ?? 200,
    msPerRequest: optNum('batch.msPerRequest', r.msPerRequest, { min: 0 }) ?? 1,
    failJob: bool('batch.failJob', r.failJob, false),
    expire: bool('batch.expire', r.expire, false),
    lineErrorEvery: optNum('batch.lineErrorEvery', r.lineErrorEvery, { min: 1, integer: true }),
    spoolDir: optDir('batch.spoolDir', r.spoolDir),
  };
}

/** Applies defaults and validates every field at once; throws EmulatorOptionError naming the first bad option. */
export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new EmulatorOptionError('options', o, 'an object');
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new EmulatorOptionError('host', host, 'a non-empty string');
  if (o.apiKey !== undefined && (typeof o.apiKey !== 'string' || o.apiKey === '')) {
    // Never echo a key back, even a malformed one.
    throw new EmulatorOptionError('apiKey', typeof o.apiKey, 'a non-empty string');
  }
  const models = o.models ?? DEFAULT_MODELS;
  if (!Array.isArray(models) || models.length === 0 || !models.every((m) => typeof m === 'string' && /^[\w.-]+$/.test(m))) {
    throw new EmulatorOptionError('models', models, `a non-empty array of model ids like "${DEFAULT_MODEL}"`);
  }
  if (o.log !== undefined && typeof o.log !== 'function') throw new EmulatorOptionError('log', o.log, 'a function');
  if (o.clock !== undefined && (typeof o.clock?.now !== 'function' || typeof o.clock?.sleep !== 'function')) {
    throw new EmulatorOptionError('clock', o.clock, 'a Clock ({ now(), sleep(ms, signal) })');
  }
  const vertex = resolveVertexOptions(o.vertex);
  if ('option' in vertex) throw new EmulatorOptionError(vertex.option, vertex.value, vertex.expected);
  return {
    host,
    port: num('port', o.port ?? 0, { min: 0, max: 65535, integer: true }),
    apiKey: o.apiKey,
    seed: num('seed', o.seed ?? 1, {}),
    timeScale: num('timeScale', o.timeScale ?? 1, { gt: 0 }),
    latency: validateLatency(o.latency),
    quota: validateQuota(o.quota),
    faults: validateFaults(o.faults),
    retryAfterHeader: bool('retryAfterHeader', o.retryAfterHeader, false),
    gzip: bool('gzip', o.gzip, false),
    imageBytes: num('imageBytes', o.imageBytes ?? 0, { min: 0, integer: true }),
    thoughtSignatureChars: num('thoughtSignatureChars', o.thoughtSignatureChars ?? 88, { min: 4, integer: true }),
    models: [...models],
    existingUser: bool('existingUser', o.existingUser, false),
    batch: validateBatch(o.batch),
    vertex,
    log: o.log,
    clock: o.clock ?? monotonicClock,
  };
}

