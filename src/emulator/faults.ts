// Which fault (if any) a request gets: scripted first, then one seeded draw against the probabilities.
import type { FaultKind, FaultOptions, OutageOptions } from './options.ts';
import { FAULT_KINDS } from './options.ts';
import { validateFaults } from './validate.ts';
import type { Rng } from './random.ts';

interface ScriptState {
  match: string;
  fault: FaultKind;
  left: number;
}

export class FaultPlan {
  private probs: Partial<Record<FaultKind, number>> = {};
  private scripted: ScriptState[] = [];
  private outage: OutageOptions | undefined;

  constructor(
    faults: FaultOptions,
    private readonly rng: Rng,
  ) {
    this.update(faults);
  }

  /**
   * Merges a change. Probabilities given replace old ones; `scripted` replaces the whole script (its counts
   * start afresh); `outage: undefined` ends an outage.
   */
  update(change: Partial<FaultOptions>): void {
    const merged: FaultOptions = { ...this.probs, outage: this.outage };
    for (const [k, v] of Object.entries(change)) if (k !== 'scripted') (merged as Record<string, unknown>)[k] = v;
    const { outage, ...probs } = validateFaults(stripUndefined(merged));
    this.probs = probs;
    this.outage = outage;
    if ('scripted' in change) {
      this.scripted = (validateFaults({ scripted: change.scripted ?? [] }).scripted ?? []).map((s) => ({
        match: s.match,
        fault: s.fault,
        left: s.times ?? 1,
      }));
    }
  }

  /**
   * The fault for one request, or undefined. Always consumes exactly one draw from `rng` so that a scripted
   * fault does not shift the random faults of later requests.
   */
  pick(prompt: string, rng: Rng = this.rng): FaultKind | undefined {
    const r = rng.next();
    const script = this.scripted.find((s) => s.left > 0 && prompt.includes(s.match));
    if (script) {
      script.left--;
      return script.fault;
    }
    let acc = 0;
    for (const kind of FAULT_KINDS) {
      acc += this.probs[kind] ?? 0;
      if (r < acc) return kind;
    }
    return undefined;
  }

  /** The HTTP status of an outage covering emulated time `t` (ms since start), if any. */
  outageAt(t: number): number | undefined {
    const o = this.outage;
    if (!o || t < o.startMs || t >= o.startMs + o.durationMs) return undefined;
    return o.status ?? 503;
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
