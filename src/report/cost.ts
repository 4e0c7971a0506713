// Price table for the image models, so a run can show its spend live and estimate it before it starts.
//
// Source: Gemini API pricing page as quoted 2026-09/10 (transcribed in /work/shared/gemini-api.md §6.2).
// Rows or fields marked UNCONFIRMED come from third-party quotes or memory, not from the pricing page itself;
// prices change, so treat every figure as an estimate and check https://ai.google.dev/gemini-api/docs/pricing.
import type { Usage } from '../types.ts';

export type PriceMode = 'interactive' | 'batch';

/** Canonical image sizes the table knows; Gemini's `imageConfig.imageSize` values plus 512 px for 3.1-flash. */
export type PriceSize = '512' | '1K' | '2K' | '4K';

interface PriceRow {
  /** USD per 1M input tokens (text and image input are priced alike). */
  inputPerMTok: number;
  /** USD per 1M text output tokens; thinking tokens are billed at this rate too. */
  textOutputPerMTok: number;
  /** USD per 1M IMAGE-modality output tokens; absent for per-image models (Imagen). */
  imageOutputPerMTok?: number;
  /** USD per generated image by size, the figure the pricing page quotes. */
  perImage: Partial<Record<PriceSize, number>>;
  /** Size assumed when a job does not set one. */
  defaultSize: PriceSize;
  /** The Batch API bills these models at half price; Imagen has no batch mode. */
  batchHalfPrice: boolean;
  /** Which figures are not from the pricing page. */
  unconfirmed?: string;
}

const PRICES: Readonly<Record<string, PriceRow>> = {
  // $30 / 1M image tokens x 1290 tokens per image (<= 1024x1024) = $0.039; batch $0.0195.
  'gemini-2.5-flash-image': {
    inputPerMTok: 0.3,
    textOutputPerMTok: 2.5,
    imageOutputPerMTok: 30,
    perImage: { '1K': 0.039 },
    defaultSize: '1K',
    batchHalfPrice: true,
    unconfirmed: 'text output $2.50/1M',
  },
  // $120 / 1M image tokens: "equivalent to $0.134 per 1K/2K image and $0.24 per 4K image".
  'gemini-3-pro-image-preview': {
    inputPerMTok: 2,
    textOutputPerMTok: 12,
    imageOutputPerMTok: 120,
    perImage: { '1K': 0.134, '2K': 0.134, '4K': 0.24 },
    defaultSize: '1K',
    batchHalfPrice: true,
    unconfirmed: 'input $2/1M and text/thinking output $12/1M',
  },
  // UNCONFIRMED row: $0.045 (512) to $0.151 (4K) per image [3P]; 1K/2K and the per-token rates are interpolated.
  'gemini-3.1-flash-image-preview': {
    inputPerMTok: 0.5,
    textOutputPerMTok: 3,
    imageOutputPerMTok: 60,
    perImage: { '512': 0.045, '1K': 0.067, '2K': 0.101, '4K': 0.151 },
    defaultSize: '1K',
    batchHalfPrice: true,
    unconfirmed: 'whole row',
  },
  // Imagen 4 through :predict is priced per image, no tokens, no batch mode.
  'imagen-4.0-fast-generate-001': { inputPerMTok: 0, textOutputPerMTok: 0, perImage: { '1K': 0.02 }, defaultSize: '1K', batchHalfPrice: false },
  'imagen-4.0-generate-001': { inputPerMTok: 0, textOutputPerMTok: 0, perImage: { '1K': 0.04, '2K': 0.04 }, defaultSize: '1K', batchHalfPrice: false },
  'imagen-4.0-ultra-generate-001': { inputPerMTok: 0, textOutputPerMTok: 0, perImage: { '1K': 0.06, '2K': 0.06 }, defaultSize: '1K', batchHalfPrice: false },
};

/** Other names the API accepts for the same priced model. */
const ALIASES: Readonly<Record<string, string>> = {
  'gemini-2.5-flash-image-preview': 'gemini-2.5-flash-image',
  'gemini-3-pro-image': 'gemini-3-pro-image-preview',
  'gemini-3.1-flash-image': 'gemini-3.1-flash-image-preview',
};

function rowFor(model: string): PriceRow | undefined {
  const name = model.trim().toLowerCase().replace(/^models\//, '');
  return PRICES[ALIASES[name] ?? name];
}

/** True when the price table has the model; the UI shows "unknown price" otherwise (its cost reads 0). */
export function knownModel(model: string): boolean {
  return rowFor(model) !== undefined;
}

/** True when any figure for the model is not from the pricing page. */
export function unconfirmedPrice(model: string): boolean {
  return rowFor(model)?.unconfirmed !== undefined;
}

/** Maps the spellings users and the SDK use ("1k", "512px", "0.5K") to the table's sizes. */
export function normalizeImageSize(size: string | undefined): PriceSize | undefined {
  if (size === undefined) return undefined;
  const s = size.trim().toUpperCase().replace(/PX$/, '');
  if (s === '512' || s === '0.5K') return '512';
  if (s === '1K' || s === '1024') return '1K';
  if (s === '2K' || s === '2048') return '2K';
  if (s === '4K' || s === '4096') return '4K';
  return undefined;
}

/** Price of one image of that size; an unlisted size falls back to the nearest listed one, never to 0. */
function imagePrice(row: PriceRow, size: PriceSize | undefined): number {
  const order: PriceSize[] = ['512', '1K', '2K', '4K'];
  const want = size ?? row.defaultSize;
  const direct = row.perImage[want];
  if (direct !== undefined) return direct;
  const wantAt = order.indexOf(want);
  let best: number | undefined;
  let bestDist = Infinity;
  for (const [i, s] of order.entries()) {
    const p = row.perImage[s];
    if (p !== undefined && Math.abs(i - wantAt) < bestDist) {
      best = p;
      bestDist = Math.abs(i - wantAt);
    }
  }
  return best ?? 0;
}

function modeFactor(row: PriceRow, mode: PriceMode): number {
  return mode === 'batch' && row.batchHalfPrice ? 0.5 : 1;
}

/**
 * USD for one answer, from its usageMetadata-derived Usage.
 * Image tokens are billed at the image rate; the rest of the output and the thinking tokens at the text rate
 * (thought images are not billed separately). Blocked answers normally carry no image tokens, so cost ~0.
 * `images` is the number of images actually returned: it prices per-image models (Imagen) and answers that
 * came back without usage metadata; leave it 0 for blocked or failed answers.
 */
export function costOfUsage(model: string, usage: Usage | undefined, mode: PriceMode = 'interactive', images = 0): number {
  const row = rowFor(model);
  if (!row) return 0;
  const factor = modeFactor(row, mode);
  if (row.imageOutputPerMTok === undefined || (!usage && images > 0)) {
    return round(images * imagePrice(row, undefined) * factor);
  }
  if (!usage) return 0;
  const imageTokens = Math.max(0, usage.imageTokens);
  const textTokens = Math.max(0, usage.candidatesTokens - imageTokens) + Math.max(0, usage.thoughtsTokens);
  const usd =
    (Math.max(0, usage.promptTokens) * row.inputPerMTok +
      textTokens * row.textOutputPerMTok +
      imageTokens * row.imageOutputPerMTok) /
    1e6;
  return round(usd * factor);
}

/** Options of estimateCost(). */
export interface EstimateOptions {
  /** Requested size ("1K", "2K", "4K", "512"); an unknown value counts as the model's default size. @default the model's default (1K) */
  imageSize?: string;
  /** @default 'interactive' */
  mode?: PriceMode;
  /** Input tokens per request (prompt text plus reference images), added at the input rate. @default 0 */
  promptTokens?: number;
}

/** USD a run of `images` single-image requests should cost, from the per-image list prices. 0 for unknown models. */
export function estimateCost(model: string, images: number, options: EstimateOptions = {}): number {
  const row = rowFor(model);
  if (!row || !(images > 0)) return 0;
  const perImage = imagePrice(row, normalizeImageSize(options.imageSize));
  const input = ((options.promptTokens ?? 0) * row.inputPerMTok) / 1e6;
  return round(images * (perImage + input) * modeFactor(row, options.mode ?? 'interactive'));
}

/** Drops float noise (0.1 + 0.2) without losing sub-cent precision. */
function round(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}
