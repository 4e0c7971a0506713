// What an answer or a run costs. Only arithmetic lives here: every price is a lookup into the model registry
// (src/models/registry.ts), which records where each figure comes from. Treat results as estimates and check
// https://ai.google.dev/gemini-api/docs/pricing.
import { IMAGE_SIZES, effectiveSize, findModel } from '../models/index.ts';
import type { ImageSize, ModelInfo, ModelPrices } from '../models/index.ts';
import type { Usage } from '../types.ts';

export type PriceMode = 'interactive' | 'batch';

interface Priced {
  model: ModelInfo;
  prices: ModelPrices;
}

function pricedModel(id: string): Priced | undefined {
  const model = findModel(id);
  return model?.prices ? { model, prices: model.prices } : undefined;
}

/** True when the registry has prices for the model; the UI shows "unknown price" otherwise. */
export function knownModel(model: string): boolean {
  return pricedModel(model) !== undefined;
}

/** True when the model's prices do not come from an official Google page (confidence below H). */
export function unconfirmedPrice(model: string): boolean {
  const confidence = findModel(model)?.sources.prices?.confidence;
  return confidence !== undefined && confidence !== 'H';
}

/**
 * List price of one image of the size asked (or the model's default). A size the model has no price for counts
 * as the next larger priced size (or the largest): an estimate may run high, never low.
 */
function imagePrice({ model, prices }: Priced, size: string | undefined): number {
  const want = effectiveSize(model, size) ?? '1K';
  const listed = IMAGE_SIZES.filter((s): s is ImageSize => prices.perImage[s] !== undefined);
  const pick = listed.find((s) => IMAGE_SIZES.indexOf(s) >= IMAGE_SIZES.indexOf(want)) ?? listed.at(-1);
  return pick === undefined ? 0 : prices.perImage[pick]!;
}

function modeFactor(prices: ModelPrices, mode: PriceMode): number {
  return mode === 'batch' ? prices.batchFactor : 1;
}

/**
 * USD for one answer, from its usageMetadata-derived Usage.
 * Image tokens are billed at the image rate; the rest of the output and the thinking tokens at the text rate
 * (thought images are not billed separately). `images` is the number of final images returned. When an answer
 * carries images but its usage has no per-modality breakdown (or no usage at all), the images are priced at the
 * list price per image of `imageSize`, so the budget never counts less than Google bills. A model the registry has
 * no price for costs `pricePerImage` per image when the caller gave one; without one its cost is unknown
 * (undefined), never a made-up $0.
 */
export function costOfUsage(model: string, usage: Usage | undefined, mode: PriceMode = 'interactive', images = 0, imageSize?: string, pricePerImage?: number): number | undefined {
  const priced = pricedModel(model);
  if (!priced) return pricePerImage === undefined ? undefined : round(images * pricePerImage);
  const { prices } = priced;
  const factor = modeFactor(prices, mode);
  if (!usage) return round(images * imagePrice(priced, imageSize) * factor);
  const input = Math.max(0, usage.promptTokens) * prices.inputPerMTok;
  const thoughts = Math.max(0, usage.thoughtsTokens) * prices.textOutputPerMTok;
  const imageTokens = Math.max(0, usage.imageTokens);
  if (images > 0 && imageTokens === 0) {
    // No per-modality breakdown: the images at list price, whatever else the output holds at the text rate.
    const size = effectiveSize(priced.model, imageSize);
    const perImageTokens = size === undefined ? 0 : (priced.model.tokensPerImage[size] ?? 0);
    const rest = Math.max(0, usage.candidatesTokens - images * perImageTokens) * prices.textOutputPerMTok;
    return round(((input + thoughts + rest) / 1e6 + images * imagePrice(priced, imageSize)) * factor);
  }
  const textTokens = Math.max(0, usage.candidatesTokens - imageTokens);
  const usd = (input + thoughts + textTokens * prices.textOutputPerMTok + imageTokens * prices.imageOutputPerMTok) / 1e6;
  return round(usd * factor);
}

/** Options of estimateCost(). */
export interface EstimateOptions {
  /** Requested size ("1K", "2K", "4K", "512"); unset or unknown counts as the model's default size. @default the model's default */
  imageSize?: string;
  /** @default 'interactive' */
  mode?: PriceMode;
  /** Input tokens per request (prompt text plus reference images), added at the input rate. @default 0 */
  promptTokens?: number;
  /** USD per image for a model the registry has no price for (the caller's figure). @default none (such a model estimates at 0) */
  pricePerImage?: number;
}

/** USD a run of `images` single-image requests should cost, from the per-image list prices. 0 for unknown models. */
export function estimateCost(model: string, images: number, options: EstimateOptions = {}): number {
  const priced = pricedModel(model);
  if (!(images > 0)) return 0;
  if (!priced) return options.pricePerImage === undefined ? 0 : round(images * options.pricePerImage);
  const perImage = imagePrice(priced, options.imageSize);
  const input = ((options.promptTokens ?? 0) * priced.prices.inputPerMTok) / 1e6;
  return round(images * (perImage + input) * modeFactor(priced.prices, options.mode ?? 'interactive'));
}

/** Drops float noise (0.1 + 0.2) without losing sub-cent precision. */
function round(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}
