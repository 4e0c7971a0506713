// The model registry's public face: the data (registry.ts), lookups (lookup.ts) and 404 explanations.
export type { Confidence, FactName, ImageSize, ModelInfo, ModelPrices, ModelStatus, Source, ThinkingLevel, ThinkingSupport } from './types.ts';
export { DEFAULT_MODEL, IMAGE_SIZES, MODELS, bareModelId, effectiveSize, findModel, isServed, normalizeImageSize, recommendedModels, replacementFor } from './lookup.ts';
export { explainUnavailable, unavailableReason } from './unavailable.ts';
export type { Unavailable, UnavailableReason } from './unavailable.ts';
