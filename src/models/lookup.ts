// Lookups into the model registry. Everything in src/ that needs a fact about a model asks here (through index.ts).
import { REGISTRY } from './registry.ts';
import type { ImageSize, ModelInfo } from './types.ts';


/** Every known model (including retired ones, so their replacement can be named). */
export const MODELS: readonly ModelInfo[] = REGISTRY;

/** Google's recommended general image model (changelog 2026-10-06), used when neither a flag nor a line names one. */
export const DEFAULT_MODEL = 'gemini-nano-banana-2.1';

/** Image sizes in ascending order. */
export const IMAGE_SIZES: readonly ImageSize[] = ['512', '1K', '2K', '4K'];

const byId = new Map(MODELS.map((m) => [m.id, m]));

/** "models/Gemini-3-Pro-Image" → "gemini-3-pro-image". */
export function bareModelId(id: string): string {
  return id.trim().replace(/^models\//i, '').toLowerCase();
}

/** The registry entry for an id (with or without `models/`, any case); undefined for a model newer than the registry. */
export function findModel(id: string): ModelInfo | undefined {
  return byId.get(bareModelId(id));
}

/** True when the model can still be called by someone (not shut down). */
export function isServed(model: ModelInfo): boolean {
  return model.status !== 'shut_down';
}

/**
 * What to use instead of a retired, restricted or deprecated model: Google's named replacement, followed along
 * the chain until a model that is neither shut down nor deprecated (a preview → its GA → that GA's successor).
 */
export function replacementFor(id: string): ModelInfo | undefined {
  let m = findModel(id);
  const seen = new Set<string>();
  while (m?.replacement !== undefined && !seen.has(m.id)) {
    seen.add(m.id);
    const next = findModel(m.replacement);
    if (!next) return undefined;
    if (next.status === 'ga' || next.status === 'preview') return next;
    m = next;
  }
  return m && seen.size > 0 ? m : undefined;
}

/** Models a new user can pick today (GA or preview), in registry order. */
export function recommendedModels(): ModelInfo[] {
  return MODELS.filter((m) => m.status === 'ga' || m.status === 'preview');
}

/** Maps the spellings users and SDKs use ("1k", "512px", "0.5K", "2048") to the registry's sizes. */
export function normalizeImageSize(size: string | undefined): ImageSize | undefined {
  if (size === undefined) return undefined;
  const s = size.trim().toUpperCase().replace(/PX$/, '');
  if (s === '512' || s === '0.5K') return '512';
  if (s === '1K' || s === '1024') return '1K';
  if (s === '2K' || s === '2048') return '2K';
  if (s === '4K' || s === '4096') return '4K';
  return undefined;
}

/** The size a request gets: the one asked for, else the model's default, else its only output size. */
export function effectiveSize(model: ModelInfo, asked: string | undefined): ImageSize | undefined {
  return normalizeImageSize(asked) ?? model.defaultSize ?? model.sizes[0];
}
