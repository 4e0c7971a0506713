// The one place that prices an answer: streaming, batch and the budget all ask here, so a price change (or the
// model registry taking over the table) touches one call.
import { costOfUsage, estimateCost } from '../report/cost.ts';
import type { Outcome } from '../types.ts';

/** How a request was sent: streaming requests pay the list price, Batch API requests half of it. */
export type PricedMode = 'api' | 'batch';

/**
 * What one answer costs (USD): images and text-only answers are billed by usage; blocks and errors are not.
 * Undefined: the answer was billed at a price imagebatch does not know (a model newer than the registry, no
 * pricePerImage), which is shown as unknown, never as $0.
 */
export function costOf(outcome: Outcome, model: string, mode: PricedMode = 'api', pricePerImage?: number): number | undefined {
  const tier = mode === 'batch' ? 'batch' : 'interactive';
  if (outcome.kind === 'image') return costOfUsage(model, outcome.usage, tier, outcome.images.length, undefined, pricePerImage);
  if (outcome.kind === 'no_image') return costOfUsage(model, outcome.usage, tier, 0, undefined, pricePerImage);
  return 0;
}

/** What `requests` more single-image requests should cost (USD) from list prices; a model without a price counts `pricePerImage`, else 0. */
export function estimateOf(model: string, requests: number, imageSize?: string, pricePerImage?: number): number {
  return estimateCost(model, requests, { imageSize, pricePerImage });
}
