// Public entry of the local Gemini REST emulator: start it, point a client (or the official SDK, through
// httpOptions.baseUrl) at `url`, read what it saw from `counters`, reshape quota and faults while it runs.
import type { EmulatorCounters } from './counters.ts';
import type { EmulatorOptions, FaultOptions, QuotaOptions } from './options.ts';
import { EmulatorOptionError } from './options.ts';
import { resolveOptions, validateFaults, validateQuota } from './validate.ts';
import { listen } from './server.ts';
import { EmulatorState } from './state.ts';

export type { EmulatorCounters } from './counters.ts';
export type {
  BatchOptions,
  EmulatorOptions,
  FaultKind,
  FaultOptions,
  LatencyOptions,
  OutageOptions,
  QuotaOptions,
  ScriptedFault,
} from './options.ts';
export { DEFAULT_MODELS, EmulatorOptionError, FAULT_KINDS, demoProfile } from './options.ts';
export { QUOTA_IDS } from './quota.ts';
export type { VertexEmulatorOptions } from './vertex.ts';
export { RENDER_SCALE, nominalSize, renderSize } from './render.ts';

export interface Emulator {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  /** A fresh snapshot on every read. */
  readonly counters: EmulatorCounters;
  /** generate requests seen for this exact prompt text (text parts joined by "\n"). */
  requestsForPrompt(prompt: string): number;
  resetCounters(): void;
  /** Changes quotas while running; a key set to undefined removes that limit. Windows keep counting. */
  setQuota(q: Partial<QuotaOptions>): void;
  /** Changes fault probabilities / outage; a given `scripted` list replaces the script and restarts its counts. */
  setFaults(f: Partial<FaultOptions>): void;
  /** What the Vertex side saw: metadata tokens issued, expired tokens refused, service-account JWTs accepted. */
  readonly vertex: VertexStats;
  /** Makes every token issued so far invalid (the next request with one gets 401), as a revoked credential would. */
  revokeTokens(): void;
  /** Closes the server and every socket (keep-alive and hanging ones) at once. */
  close(): Promise<void>;
}

export interface VertexStats {
  tokensIssued: number;
  expiredTokens: number;
  jwtAccepted: number;
}

/** Starts an emulator. Options are validated at once: a bad one throws EmulatorOptionError naming it. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const st = new EmulatorState(resolveOptions(options));
  const l = await listen(st);
  st.baseUrl = l.url;
  return {
    url: l.url,
    get counters() {
      return st.counters.snapshot();
    },
    requestsForPrompt: (prompt) => st.counters.requestsForPrompt(prompt),
    resetCounters: () => st.counters.reset(),
    setQuota(q) {
      if (typeof q !== 'object' || q === null) throw new EmulatorOptionError('quota', q, 'an object');
      // Validate the defined keys; keep undefined ones so they remove a limit.
      const valid: Partial<QuotaOptions> = validateQuota(q);
      for (const [k, v] of Object.entries(q)) if (v === undefined) (valid as Record<string, undefined>)[k] = undefined;
      st.quota.update(valid);
    },
    setFaults(f) {
      if (typeof f !== 'object' || f === null) throw new EmulatorOptionError('faults', f, 'an object');
      validateFaults(Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)));
      st.faults.update(f);
    },
    get vertex() {
      const a = st.vertexAuth;
      return { tokensIssued: a.tokensIssued, expiredTokens: a.expiredTokens, jwtAccepted: a.jwtAccepted };
    },
    revokeTokens: () => st.vertexAuth.revokeAll(),
    close: () => l.close(),
  };
}
