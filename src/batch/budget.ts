// --max-cost in batch mode. A batch cannot be stopped halfway the way a streaming run stops scheduling, so the cap
// is checked on the estimate before anything is sent; the answers fetched afterwards are counted as well, since the
// estimate can be wrong (prices, retried lines), and passing the cap is said once.
import { BatchBudgetError, OptionError } from '../errors.ts';
import { refuseUnpricedBudget } from '../options.ts';
import { estimateCost } from '../report/cost.ts';
import type { Job } from '../types.ts';

/** A cap must be a finite number ≥ 0 (the same rule as runToDisk's). */
export function checkCap(maxCostUsd: unknown): void {
  if (maxCostUsd !== undefined && (typeof maxCostUsd !== 'number' || !Number.isFinite(maxCostUsd) || maxCostUsd < 0)) {
    throw new OptionError('maxCostUsd', maxCostUsd, 'a number ≥ 0');
  }
}

/** Sums the batch-price estimate of the jobs about to be submitted. */
export class BatchEstimate {
  usd = 0;
  requests = 0;
  add(job: Job, model: string, imageSize: string | undefined, maxCostUsd?: number, pricePerImage?: number): void {
    refuseUnpricedBudget(model, maxCostUsd, pricePerImage);
    this.usd += estimateCost(model, 1, { imageSize: job.imageSize ?? imageSize, mode: 'batch', pricePerImage });
    this.requests++;
  }
  /** Throws BatchBudgetError when a cap is set and the estimate passes it. */
  check(maxCostUsd: number | undefined): void {
    if (maxCostUsd !== undefined && this.usd > maxCostUsd + 1e-9) throw new BatchBudgetError(this.usd, maxCostUsd, this.requests);
  }
}

/** The spend of the answers fetched in one collect/wait call, and whether passing the cap was already said. */
export class SpendMeter {
  usd = 0;
  /** Answers billed at a price imagebatch does not know (a model newer than the registry, no pricePerImageUsd). */
  unpriced = 0;
  private warned = false;
  private warnedUnpriced = false;
  /**
   * Adds one saved result's cost (undefined: unknown); returns the warning to emit the first time the total passes
   * the cap, or the first time an answer's price is unknown under a cap (the total then leaves it out, never $0).
   */
  add(costUsd: number | undefined, maxCostUsd: number | undefined): string | undefined {
    if (costUsd === undefined) {
      this.unpriced++;
      if (maxCostUsd === undefined || this.warnedUnpriced) return undefined;
      this.warnedUnpriced = true;
      return 'a fetched batch answer has no known price (a model newer than the model registry): the spend checked against --max-cost leaves such answers out; give --price-per-image to count them';
    }
    this.usd += costUsd;
    if (maxCostUsd === undefined || this.warned || this.usd <= maxCostUsd + 1e-9) return undefined;
    this.warned = true;
    return `the fetched batch answers cost $${this.usd.toFixed(4)}, over --max-cost $${maxCostUsd.toFixed(4)} (they were billed when the batch ran; saving them all)`;
  }
}
