// Medians and the markdown tables of the quota benchmark.
import { fmt, markdownTable, median } from './lib/stats.ts';
import type { RunMetrics, Runner } from './lib/types.ts';

export interface QuotaRow {
  profile: string;
  runner: Runner;
  n: number;
  runs: RunMetrics[];
  /** Medians over runs from here on. */
  makespanS: number;
  ratio: number;
  per1000: number;
  attemptsPerItem: number;
  insidePause: number;
  clientInsidePause: number;
  succeeded: number;
  realS: number;
  lagP99Ms: number;
  load: number;
  /** seed-pattern makespan ÷ this makespan (medians). */
  speedup?: number;
}

export function summarise(runs: RunMetrics[], n: number): QuotaRow {
  const first = runs[0]!;
  const med = (f: (r: RunMetrics) => number) => median(runs.map(f));
  return {
    profile: first.profile,
    runner: first.runner,
    n,
    runs,
    makespanS: med((r) => r.makespanS),
    ratio: med((r) => r.makespanS / r.boundS),
    per1000: med((r) => (1000 * r.quota429) / Math.max(1, r.requests)),
    attemptsPerItem: med((r) => r.requests / n),
    insidePause: med((r) => r.insidePause),
    clientInsidePause: med((r) => r.clientInsidePause),
    succeeded: med((r) => r.succeeded),
    realS: med((r) => r.realS),
    lagP99Ms: med((r) => r.lagP99Ms),
    load: med((r) => r.load),
  };
}

const common = (r: QuotaRow, client = false): string[] => [
  fmt(r.makespanS, 0),
  fmt(r.runs[0]?.boundS ?? Number.NaN, 0),
  fmt(r.ratio, 3),
  fmt(r.per1000, 1),
  fmt(r.attemptsPerItem, 3),
  client && Number.isFinite(r.clientInsidePause) ? `${fmt(r.insidePause, 0)} (${fmt(r.clientInsidePause, 0)})` : fmt(r.insidePause, 0),
  `${fmt(r.succeeded, 0)} / ${r.n}`,
  r.speedup === undefined ? '—' : `${fmt(r.speedup, 1)}×`,
];

const COMMON = ['makespan (emulated s)', 'bound (s)', 'makespan ÷ bound', '429s / 1000 req', 'attempts / item', 'starts inside pauses', 'succeeded', 'speed-up vs seed'];

/**
 * Emulator runs (real HTTP on scaled time): medians, with what the machine was doing. "starts inside pauses" is the
 * emulator's count, with in brackets the starts the client made while it knew of the pause (its own events).
 */
export function quotaTable(rows: readonly QuotaRow[]): string {
  return markdownTable(
    ['profile', 'runner', 'runs', 'time scale', ...COMMON.map((c) => (c === 'starts inside pauses' ? 'starts inside pauses (client knew)' : c)), 'real s', 'loop lag p99 (ms)', 'load avg'],
    rows.map((r) => [
      r.profile,
      r.runner,
      String(r.runs.length),
      String(r.runs[0]?.timeScale ?? ''),
      ...common(r, true),
      fmt(r.realS, 1),
      fmt(r.lagP99Ms, 1),
      fmt(r.load, 1),
    ]),
  );
}

/** Virtual-time runs (pool and seed pattern against a simulated server on a FakeClock). */
export function virtualTable(rows: readonly QuotaRow[]): string {
  return markdownTable(
    ['profile', 'runner', 'seeds', ...COMMON],
    rows.map((r) => [r.profile, r.runner, String(r.runs.length), ...common(r)]),
  );
}
