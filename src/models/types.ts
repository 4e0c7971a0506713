// The shape of one model's facts. The data lives in registry.ts; lookups in index.ts.

/** Lifecycle as Google states it: `restricted` = still served, but only to projects that used it before. */
export type ModelStatus = 'ga' | 'preview' | 'deprecated' | 'restricted' | 'shut_down';

/** `generationConfig.imageConfig.imageSize` values (uppercase K; "512" is a string too). */
export type ImageSize = '512' | '1K' | '2K' | '4K';

/** `generationConfig.thinkingConfig.thinkingLevel`, lower-case here, upper-case on the wire. */
export type ThinkingLevel = 'minimal' | 'low' | 'medium' | 'high';

/** How a model thinks: never, always (no control), or at a level the request picks. */
export type ThinkingSupport =
  | { readonly kind: 'none' }
  | { readonly kind: 'always' }
  | { readonly kind: 'levels'; readonly levels: readonly ThinkingLevel[]; readonly default: ThinkingLevel };

/** H = an official Google page says it; M = official but older/inconsistent, or several third parties agree; L = one third party or inferred. */
export type Confidence = 'H' | 'M' | 'L';

/** Where a fact comes from. */
export interface Source {
  readonly url: string;
  /** Date of the page or announcement the fact was read from (YYYY-MM-DD). */
  readonly date: string;
  readonly confidence: Confidence;
  /** Conflicts and the choice made, when there is one. */
  readonly note?: string;
}

/** USD prices of the paid tier. */
export interface ModelPrices {
  /** Per generated image by size, standard (interactive) mode. */
  readonly perImage: Readonly<Partial<Record<ImageSize, number>>>;
  /** Batch API price as a fraction of standard (0.5 = half price). */
  readonly batchFactor: number;
  /** Per 1M input tokens (text and images). */
  readonly inputPerMTok: number;
  /** Per 1M text output tokens; thinking tokens are billed at this rate. */
  readonly textOutputPerMTok: number;
  /** Per 1M image output tokens. */
  readonly imageOutputPerMTok: number;
}

/** Facts that carry a source; `sources` has an entry for each one the model defines. */
export type FactName =
  | 'status'
  | 'released'
  | 'deprecated'
  | 'shutdown'
  | 'replacement'
  | 'aspectRatios'
  | 'sizes'
  | 'defaultSize'
  | 'thinking'
  | 'maxReferenceImages'
  | 'tokensPerImage'
  | 'tokenLimits'
  | 'prices'
  | 'batchFactor'
  | 'vertex';

export interface ModelInfo {
  /** REST id: `models/{id}:generateContent`. */
  readonly id: string;
  /** Marketing name ("Nano Banana 2.1"). */
  readonly name: string;
  readonly status: ModelStatus;
  /** YYYY-MM-DD dates of the lifecycle. */
  readonly released?: string;
  readonly deprecated?: string;
  readonly shutdown?: string;
  /** The model Google names as the way forward (may itself be deprecated; see `replacementFor`). */
  readonly replacement?: string;
  /** `imageConfig.aspectRatio` values the model takes; empty for shut-down models. */
  readonly aspectRatios: readonly string[];
  /** Output sizes the model makes. */
  readonly sizes: readonly ImageSize[];
  /** Size when the request names none; undefined = the model takes no `imageSize` at all (never send it). */
  readonly defaultSize?: ImageSize;
  readonly thinking: ThinkingSupport;
  /** Most reference images per request. */
  readonly maxReferenceImages?: number;
  /** Image output tokens billed per image, by size. */
  readonly tokensPerImage: Readonly<Partial<Record<ImageSize, number>>>;
  readonly inputTokenLimit?: number;
  readonly outputTokenLimit?: number;
  /** Undefined for models nobody can call any more. */
  readonly prices?: ModelPrices;
  /**
   * Vertex AI availability as the sources say it (the same id on the publisher-model path); undefined = not checked.
   * Prices on Vertex are taken to be the same list prices.
   */
  readonly vertex?: string;
  readonly sources: Readonly<Partial<Record<FactName, Source>>>;
}
