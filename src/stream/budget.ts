// The spend budget of a streaming run (maxCostUsd): what was billed, per job and in all, and whether one more
// request may start. Answers are charged when they arrive, not when the caller reads them: settled results may
// wait in the pool's buffer while it starts more work, and every answer (a text-only one too) is billed.
import type { Job } from '../types.ts';

export class SpendBudget {
  #spentUsd = 0;
  #inFlight = 0;
  #stopped = false;
  readonly #billed = new WeakMap<Job, number>();
  /** Jobs billed at least once at a price nobody here knows (a model newer than the registry). */
  readonly #unpriced = new WeakSet<Job>();

  /**
   * @param maxCostUsd the cap; undefined: no budget (every start passes)
   * @param estimate what `requests` more requests of this job should cost (unknown prices count as 0)
   */
  constructor(
    readonly maxCostUsd: number | undefined,
    private readonly estimate: (job: Job, requests: number) => number,
  ) {}

  /** USD billed so far in this run. */
  get spentUsd(): number {
    return this.#spentUsd;
  }

  /** True once a start was refused for the budget: the run ends with BudgetExceededError. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Would one more request (on top of those in flight) pass the budget? A refusal stops the run. */
  canStart(job: Job): boolean {
    if (this.maxCostUsd === undefined) return true;
    if (this.#spentUsd + this.estimate(job, this.#inFlight + 1) <= this.maxCostUsd) return true;
    this.#stopped = true;
    return false;
  }

  /** Call before the attempt's first await: the pool asks canStart for the next job right after launching one. */
  started(): void {
    this.#inFlight++;
  }

  finished(): void {
    this.#inFlight--;
  }

  /** Charges one answer of `job`; undefined: billed at an unknown price (a budget refuses such models up front). */
  charge(job: Job, usd: number | undefined): void {
    if (usd === undefined) {
      this.#unpriced.add(job);
      return;
    }
    this.#spentUsd += usd;
    if (usd > 0) this.#billed.set(job, (this.#billed.get(job) ?? 0) + usd);
  }

  /**
   * Everything `job` was billed for (a text-only answer before the image too): null when some of it was at an
   * unknown price, undefined if nothing was billed.
   */
  billedFor(job: Job): number | null | undefined {
    return this.#unpriced.has(job) ? null : this.#billed.get(job);
  }
}
