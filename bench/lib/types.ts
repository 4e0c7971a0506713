// Types the quota bench's files share (quota.ts runs, quota-table.ts summarises, virtual.ts simulates): here, so
// none of them imports another for a type (no import cycles).

export type Runner = 'seed-pattern' | 'imagebatch known' | 'imagebatch discovered';

export interface RunMetrics {
  profile: string;
  runner: Runner;
  timeScale: number;
  makespanS: number;
  boundS: number;
  succeeded: number;
  requests: number;
  quota429: number;
  insidePause: number;
  /** Starts the client made while it knew of a pause (from its own events); NaN for the seed pattern. */
  clientInsidePause: number;
  maxInFlight: number;
  realS: number;
  lagP99Ms: number;
  /** 1-minute load average of the machine when the run started. */
  load: number;
}
