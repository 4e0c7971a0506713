// The model registry: the only place in src/ where facts about Gemini image models live (ids, lifecycle, sizes,
// ratios, thinking, token counts, prices), each with the public page it was read from, the page's date and a
// confidence (H official and current, M official-but-older or several third parties, L one third party or
// inferred). Where sources disagree the entry takes the conservative side (the budget counts the higher price)
// and says so in `note`. Re-check https://ai.google.dev/gemini-api/docs/models and /pricing when models move.
import type { ModelInfo, Source, ThinkingSupport } from './types.ts';

const src = (url: string, date: string, confidence: Source['confidence'], note?: string): Source =>
  note === undefined ? { url, date, confidence } : { url, date, confidence, note };

// Official pages.
const CHANGELOG = 'https://ai.google.dev/gemini-api/docs/changelog';
const DEPRECATIONS = 'https://ai.google.dev/gemini-api/docs/deprecations';
const PRICING = 'https://ai.google.dev/gemini-api/docs/pricing';
const BATCH_API = 'https://ai.google.dev/gemini-api/docs/batch-api';
const IMAGE_GENERATION = 'https://ai.google.dev/gemini-api/docs/image-generation';
const IMAGEN = 'https://ai.google.dev/gemini-api/docs/imagen';
const LITE_CARD = 'https://ai.google.dev/gemini-api/docs/models/gemini-3.1-flash-lite-image';
const MODELS_25_IMAGE = 'https://ai.google.dev/gemini-api/docs/models/gemini-2.5-flash-image';
const VERTEX_FLASH = 'https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-1-flash-image';
const VERTEX_FLASH_PREVIEW = 'https://cloud.google.com/gemini-enterprise-agent-platform/models/gemini/3-1-flash-image-preview';
const VERTEX_LITE = 'https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/gemini/3-1-flash-lite-image';
const VERTEX_PRO = 'https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-pro-image';
// Third parties (used only where no official page was found).
const LITELLM_21 = 'https://github.com/BerriAI/litellm/discussions/44983';
const LAOZHANG_21 = 'https://docs.laozhang.ai/en/api-capabilities/nano-banana-2-1-image';
const TANSTACK_21 = 'https://github.com/tanstack/ai/releases/tag/%40tanstack%2Fai-gemini%400.36.0';
const INFERENCE_SH_21 = 'https://inference.sh/apps/google/gemini-nano-banana-2-1.md';
const XAIROUTER_FLASH = 'https://xairouter.com/en/models/gemini-3.1-flash-image-preview';
const LAOZHANG_LITE = 'https://docs.laozhang.ai/en/api-capabilities/nano-banana-2-lite-api';
const LAOZHANG_OVERVIEW = 'https://docs.laozhang.ai/ko/api-capabilities/nano-banana-image.md';

/** The ten ratios every current image model takes. */
const CLASSIC_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'] as const;
/** The classic ten plus the panoramic four of the 3.1 family. */
const WIDE_RATIOS = [...CLASSIC_RATIOS, '1:4', '4:1', '1:8', '8:1'] as const;

const NEVER: ThinkingSupport = { kind: 'none' };

/** A retired model: nothing about it matters any more except when it went and what replaces it. */
function shutDown(id: string, name: string, dates: { released?: string; shutdown: string }, replacement: string, sources: ModelInfo['sources']): ModelInfo {
  return { id, name, status: 'shut_down', ...dates, replacement, aspectRatios: [], sizes: [], thinking: NEVER, tokensPerImage: {}, sources };
}

const BATCH_HALF = src(BATCH_API, '2026-09-20', 'H', 'Batch API: "50% of the standard cost"');

const ROWS: ModelInfo[] = [
  {
    id: 'gemini-nano-banana-2.1',
    name: 'Nano Banana 2.1',
    status: 'ga',
    released: '2026-10-06',
    aspectRatios: WIDE_RATIOS,
    sizes: ['1K', '2K', '4K'],
    defaultSize: '1K',
    thinking: { kind: 'levels', levels: ['minimal', 'medium', 'high'], default: 'medium' },
    maxReferenceImages: 14,
    tokensPerImage: { '1K': 1120, '2K': 1680, '4K': 3780 },
    inputTokenLimit: 131_072,
    outputTokenLimit: 32_768,
    prices: { perImage: { '1K': 0.0336, '2K': 0.0504, '4K': 0.1134 }, batchFactor: 0.5, inputPerMTok: 1.5, textOutputPerMTok: 7.5, imageOutputPerMTok: 30 },
    vertex: 'not confirmed: no Vertex model page for 2.1 was found; the preflight reads the publisher model before a run',
    sources: {
      vertex: src(VERTEX_FLASH, '2026-10-06', 'L', 'no Vertex page for 2.1 found; Nano Banana 2, which it updates, is on Vertex'),
      status: src(CHANGELOG, '2026-10-06', 'H', 'changelog: "Gemini Nano Banana 2.1 GA"; no shutdown date'),
      released: src(CHANGELOG, '2026-10-06', 'H'),
      aspectRatios: src(CHANGELOG, '2026-10-06', 'H', 'changelog names the panoramic 1:4, 4:1, 1:8, 8:1; the full 14 from tanstack/laozhang'),
      sizes: src(TANSTACK_21, '2026-10-06', 'M', 'changelog: 1K/2K/4K; "512" answers HTTP 400 (laozhang, tanstack); one skill suggests 512: not taken'),
      defaultSize: src(LAOZHANG_21, '2026-10-06', 'L'),
      thinking: src(LAOZHANG_21, '2026-10-06', 'L', 'levels minimal/medium (default)/high; no official model card found'),
      maxReferenceImages: src(LAOZHANG_21, '2026-10-06', 'L', '10 object + 4 character images'),
      tokensPerImage: src(INFERENCE_SH_21, '2026-11-06', 'L', '1K 1120 from LiteLLM ($0.0336 at $30/MTok); 2K and 4K derived from the per-image prices quoted'),
      tokenLimits: src(VERTEX_FLASH, '2026-10-06', 'L', 'assumed equal to Nano Banana 2 (gemini-3.1-flash-image), which 2.1 updates'),
      prices: src(LITELLM_21, '2026-10-06', 'L', 'image $30/MTok, input $1.50, text output $7.50; 2K $0.0504 and 4K $0.1134 from inference.sh; no official pricing row found'),
      batchFactor: src(BATCH_API, '2026-09-20', 'M', 'the Batch page says 50% for every model; not listed per model for 2.1'),
    },
  },
  {
    id: 'gemini-3.1-flash-lite-image',
    name: 'Nano Banana 2 Lite',
    status: 'ga',
    released: '2026-06-30',
    aspectRatios: WIDE_RATIOS,
    sizes: ['1K'],
    defaultSize: '1K',
    thinking: { kind: 'levels', levels: ['minimal', 'high'], default: 'minimal' },
    maxReferenceImages: 14,
    tokensPerImage: { '1K': 1120 },
    inputTokenLimit: 65_536,
    outputTokenLimit: 4_096,
    prices: { perImage: { '1K': 0.0336 }, batchFactor: 0.5, inputPerMTok: 0.25, textOutputPerMTok: 1.5, imageOutputPerMTok: 30 },
    vertex: 'GA on Vertex AI since 2026-06-30',
    sources: {
      vertex: src(VERTEX_LITE, '2026-06-30', 'H'),
      status: src(CHANGELOG, '2026-06-30', 'H'),
      released: src(CHANGELOG, '2026-06-30', 'H'),
      aspectRatios: src(VERTEX_LITE, '2026-06-30', 'M', 'Vertex and the card\'s "14 discrete aspect ratios"; the card\'s bullet lists only the classic 10'),
      sizes: src(LITE_CARD, '2026-06-30', 'H', '"2K and 4K not supported"'),
      defaultSize: src(LITE_CARD, '2026-06-30', 'H'),
      thinking: src(LITE_CARD, '2026-06-30', 'H', '"Supported (minimal and high)"; which one is the default is not stated'),
      maxReferenceImages: src(VERTEX_LITE, '2026-06-30', 'M', '"not optimized for multiple reference inputs"'),
      tokensPerImage: src(LAOZHANG_LITE, '2026-07-01', 'M'),
      tokenLimits: src(LITE_CARD, '2026-06-30', 'H'),
      prices: src(LAOZHANG_LITE, '2026-07-01', 'M', '"Google\'s July 2026 Standard reference": $30/MTok image, $0.25 input, $1.50 output'),
      batchFactor: src(LITE_CARD, '2026-06-30', 'H', 'Batch API supported; Flex and Priority are not'),
    },
  },
  {
    id: 'gemini-3-pro-image',
    name: 'Nano Banana Pro',
    status: 'ga',
    released: '2026-05-28',
    aspectRatios: CLASSIC_RATIOS,
    sizes: ['1K', '2K', '4K'],
    defaultSize: '1K',
    thinking: { kind: 'always' },
    maxReferenceImages: 14,
    tokensPerImage: { '1K': 1120, '2K': 1120, '4K': 2000 },
    inputTokenLimit: 65_536,
    outputTokenLimit: 32_768,
    prices: { perImage: { '1K': 0.134, '2K': 0.134, '4K': 0.24 }, batchFactor: 0.5, inputPerMTok: 2, textOutputPerMTok: 12, imageOutputPerMTok: 120 },
    vertex: 'GA on Vertex AI; 4K is marked Preview there',
    sources: {
      vertex: src(VERTEX_PRO, '2026-05-28', 'H'),
      status: src(DEPRECATIONS, '2026-05-28', 'H', 'GA; "No shutdown date announced"'),
      released: src(CHANGELOG, '2026-05-28', 'H'),
      aspectRatios: src(VERTEX_PRO, '2026-05-28', 'H'),
      sizes: src(VERTEX_PRO, '2026-05-28', 'H', '4K marked Preview on Vertex'),
      defaultSize: src(IMAGE_GENERATION, '2026-05-28', 'M'),
      thinking: src(LAOZHANG_OVERVIEW, '2026-10-06', 'L', 'always thinks; no level control found on an official page'),
      maxReferenceImages: src(VERTEX_PRO, '2026-05-28', 'H'),
      tokensPerImage: src(VERTEX_PRO, '2026-05-28', 'H', '1120 tokens for 1K and 2K, 2000 for 4K'),
      tokenLimits: src(VERTEX_PRO, '2026-05-28', 'H'),
      prices: src(PRICING, '2026-09-20', 'H', '"$0.134 per 1K/2K image and $0.24 per 4K image" ($120/MTok); input $2 and text output $12 are the older published rates (L)'),
      batchFactor: BATCH_HALF,
    },
  },
  {
    id: 'gemini-3.1-flash-image',
    name: 'Nano Banana 2',
    status: 'deprecated',
    released: '2026-05-28',
    deprecated: '2026-10-06',
    replacement: 'gemini-nano-banana-2.1',
    aspectRatios: WIDE_RATIOS,
    sizes: ['512', '1K', '2K', '4K'],
    defaultSize: '1K',
    thinking: { kind: 'levels', levels: ['minimal', 'high'], default: 'minimal' },
    maxReferenceImages: 14,
    tokensPerImage: { '512': 747, '1K': 1120, '2K': 1680, '4K': 2520 },
    inputTokenLimit: 131_072,
    outputTokenLimit: 32_768,
    prices: { perImage: { '512': 0.045, '1K': 0.067, '2K': 0.101, '4K': 0.151 }, batchFactor: 0.5, inputPerMTok: 0.5, textOutputPerMTok: 3, imageOutputPerMTok: 60 },
    vertex: 'on Vertex AI; 4K is marked Preview there',
    sources: {
      vertex: src(VERTEX_FLASH, '2026-05-28', 'H'),
      status: src(CHANGELOG, '2026-10-06', 'H', '"deprecated (no shutdown date announced)"; LiteLLM and one skill claim shutdown 2026-10-29 (L): preflight finds out'),
      released: src(CHANGELOG, '2026-05-28', 'H'),
      deprecated: src(CHANGELOG, '2026-10-06', 'H'),
      replacement: src(CHANGELOG, '2026-10-06', 'H', '"Migrate to gemini-nano-banana-2.1"'),
      aspectRatios: src(VERTEX_FLASH, '2026-05-28', 'H', 'one Vertex copy adds 9:21; not taken (not on any Gemini API page)'),
      sizes: src(VERTEX_FLASH, '2026-05-28', 'H'),
      defaultSize: src(IMAGE_GENERATION, '2026-05-28', 'M'),
      thinking: src(VERTEX_FLASH, '2026-05-28', 'M', 'minimal (default) or high; levels from SDK-based tools, not the card'),
      maxReferenceImages: src(VERTEX_FLASH, '2026-05-28', 'H'),
      tokensPerImage: src(VERTEX_FLASH_PREVIEW, '2026-02-26', 'H', '747 (512), 1120 (1K), 1680 (2K), 2520 (4K)'),
      tokenLimits: src(VERTEX_FLASH, '2026-05-28', 'H'),
      prices: src(XAIROUTER_FLASH, '2026-03-01', 'M', '$60/MTok image output; per-image prices as quoted (rounded up from the token counts); input $0.25 vs $0.50 and output $1.50 vs $3 disagree: the higher taken'),
      batchFactor: BATCH_HALF,
    },
  },
  {
    id: 'gemini-2.5-flash-image',
    name: 'Nano Banana',
    status: 'restricted',
    released: '2025-10-02',
    replacement: 'gemini-nano-banana-2.1',
    aspectRatios: CLASSIC_RATIOS,
    sizes: ['1K'],
    thinking: NEVER,
    maxReferenceImages: 3,
    tokensPerImage: { '1K': 1290 },
    inputTokenLimit: 32_768,
    outputTokenLimit: 32_768,
    prices: { perImage: { '1K': 0.039 }, batchFactor: 0.5, inputPerMTok: 0.3, textOutputPerMTok: 2.5, imageOutputPerMTok: 30 },
    sources: {
      status: src(CHANGELOG, '2026-09-18', 'M', '2.5 models "restricted to users who actively used them… not deprecated"; shutdown dates 2026-10-02 (deprecations) and 2027-03-15 (third party) disagree: none recorded'),
      released: src(DEPRECATIONS, '2025-10-02', 'H'),
      replacement: src(IMAGEN, '2026-09-18', 'M', 'Google points 2.5 users at Nano Banana 2, itself replaced by 2.1'),
      aspectRatios: src(IMAGE_GENERATION, '2025-10-02', 'M'),
      sizes: src(IMAGE_GENERATION, '2025-10-02', 'M', 'fixed about 1K; the model takes no imageSize, so it is never sent'),
      thinking: src(MODELS_25_IMAGE, '2025-10-02', 'M'),
      maxReferenceImages: src(IMAGE_GENERATION, '2025-10-02', 'M', 'works best with up to 3 input images (a recommendation, not a hard limit)'),
      tokensPerImage: src(PRICING, '2025-10-02', 'H', '1290 tokens per image up to 1024x1024'),
      tokenLimits: src(MODELS_25_IMAGE, '2025-10-02', 'M'),
      prices: src(PRICING, '2025-10-02', 'M', '$30/MTok image = $0.039 per image; input $0.30, output $2.50'),
      batchFactor: BATCH_HALF,
    },
  },
  shutDown('gemini-3-pro-image-preview', 'Nano Banana Pro (preview)', { released: '2025-11-20', shutdown: '2026-06-25' }, 'gemini-3-pro-image', {
    status: src(DEPRECATIONS, '2026-05-28', 'H'),
    released: src(DEPRECATIONS, '2026-05-28', 'H'),
    shutdown: src(DEPRECATIONS, '2026-05-28', 'H'),
    replacement: src(DEPRECATIONS, '2026-05-28', 'H'),
  }),
  shutDown('gemini-3.1-flash-image-preview', 'Nano Banana 2 (preview)', { released: '2026-02-26', shutdown: '2026-06-25' }, 'gemini-3.1-flash-image', {
    status: src(DEPRECATIONS, '2026-05-28', 'H'),
    released: src(DEPRECATIONS, '2026-05-28', 'H'),
    shutdown: src(DEPRECATIONS, '2026-05-28', 'H'),
    replacement: src(DEPRECATIONS, '2026-05-28', 'H'),
  }),
  shutDown('gemini-2.5-flash-image-preview', 'Nano Banana (preview)', { shutdown: '2026-01-15' }, 'gemini-2.5-flash-image', {
    status: src(DEPRECATIONS, '2026-01-15', 'H', 'answers 404 "is no longer available"'),
    shutdown: src(CHANGELOG, '2026-01-15', 'M', 'the date the shutdown was announced; the exact day it went dark is not stated'),
    replacement: src(DEPRECATIONS, '2026-01-15', 'H'),
  }),
  ...(['imagen-4.0-generate-001', 'imagen-4.0-ultra-generate-001', 'imagen-4.0-fast-generate-001'] as const).map((id) =>
    shutDown(id, 'Imagen 4', { shutdown: '2026-08-17' }, 'gemini-3.1-flash-image', {
      status: src(IMAGEN, '2026-09-18', 'H', '"now shut down"'),
      shutdown: src(CHANGELOG, '2026-06-15', 'H'),
      replacement: src(IMAGEN, '2026-09-18', 'H', 'migrate to Nano Banana 2 (gemini-3.1-flash-image), itself replaced by 2.1'),
    }),
  ),
];

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Every model imagebatch knows, newest recommendation first. Frozen: nothing may edit a fact at run time. */
export const REGISTRY: readonly ModelInfo[] = deepFreeze(ROWS);
