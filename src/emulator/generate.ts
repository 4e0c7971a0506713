// The generateContent logic shared by the interactive routes and the Batch API: request parsing (camelCase or
// snake_case), model behaviour, and the answer shapes of §1.3 (success, text-only, IMAGE_SAFETY, blocked prompt).
import { createHash } from 'node:crypto';
import type { GenerateContentResponse, ModalityTokenCount, Part, UsageMetadata } from '../gemini/wire.ts';
import { effectiveSize, findModel } from '../models/index.ts';
import { invalidArgument } from './errors.ts';
import { camelizeKeys, isRecord } from './http.ts';
import { bytes, float, int32, string } from './proto-json.ts';
import { ASPECT_RATIOS, IMAGE_SIZES, renderImage, renderSize } from './render.ts';

export interface ModelProfile {
  id: string;
  /** Can answer with images. */
  image: boolean;
  /** Emits thought parts and a thoughtSignature (gemini-3 image models). */
  thinking: boolean;
  format: 'png' | 'jpeg';
}

/** Behaviour comes from the model registry; extra model ids given in options behave like their family by name. */
export function modelProfile(id: string): ModelProfile {
  const info = findModel(id);
  const image = info ? info.sizes.length > 0 : id.includes('image');
  const thinking = info ? info.thinking.kind !== 'none' : image && /^gemini-3/.test(id);
  return { id, image, thinking, format: id.includes('pro-image') ? 'jpeg' : 'png' };
}

export interface ParsedRequest {
  /** Text parts of the last user turn, joined with "\n". */
  prompt: string;
  /** Upper-case response modalities (default TEXT+IMAGE on image models, TEXT otherwise). */
  modalities: string[];
  wantsImage: boolean;
  aspectRatio?: string;
  imageSize?: string;
  seed?: number;
  /** Reference images sent with the prompt (inlineData or fileData parts). */
  inputImages: number;
}

const badPart = (i: number, j: number) =>
  invalidArgument(`* GenerateContentRequest.contents[${i}].parts[${j}].data: required oneof field 'data' must have one initialized field\n`);

/** Google names fields in messages by their proto (snake_case) names. */
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Validates a generateContent body (any casing); throws a Google-style 400 HttpError. */
export function parseGenerateRequest(raw: unknown, profile: ModelProfile): ParsedRequest {
  const body = camelizeKeys(raw);
  if (!isRecord(body)) throw invalidArgument('Invalid JSON payload received. Expected an object.');
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) {
    throw invalidArgument('* GenerateContentRequest.contents: contents is not specified\n');
  }
  let prompt = '';
  let inputImages = 0;
  contents.forEach((c: unknown, i) => {
    const parts = isRecord(c) ? c.parts : undefined;
    if (!Array.isArray(parts) || parts.length === 0) {
      throw invalidArgument(`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`);
    }
    const texts: string[] = [];
    parts.forEach((p: unknown, j) => {
      if (!isRecord(p)) throw badPart(i, j);
      if (typeof p.text === 'string' && p.text !== '') {
        if (p.thought !== true) texts.push(p.text);
      } else if (isRecord(p.inlineData)) {
        if (typeof p.inlineData.data !== 'string' || typeof p.inlineData.mimeType !== 'string') throw badPart(i, j);
        bytes(`contents[${i}].parts[${j}].inline_data.data`, p.inlineData.data);
        inputImages++;
      } else if (isRecord(p.fileData)) {
        inputImages++;
      } else if (!['functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'].some((k) => k in p)) {
        throw badPart(i, j);
      }
    });
    if (!isRecord(c) || c.role !== 'model') prompt = texts.join('\n');
  });

  const gc = isRecord(body.generationConfig) ? body.generationConfig : {};
  let modalities = profile.image ? ['TEXT', 'IMAGE'] : ['TEXT'];
  if (gc.responseModalities !== undefined) {
    if (!Array.isArray(gc.responseModalities)) throw invalidArgument("Invalid value at 'generation_config.response_modalities': expected a list");
    modalities = gc.responseModalities.map((m: unknown, k) => {
      const v = typeof m === 'string' ? m.toUpperCase() : '';
      if (!['TEXT', 'IMAGE', 'AUDIO'].includes(v)) {
        throw invalidArgument(
          `Invalid value at 'generation_config.response_modalities[${k}]' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), ${JSON.stringify(m)}`,
        );
      }
      return v;
    });
    if (modalities.length === 0) modalities = profile.image ? ['TEXT', 'IMAGE'] : ['TEXT'];
  }
  if (!profile.image && modalities.includes('IMAGE')) {
    const asked = [...new Set(modalities.map((m) => m.toLowerCase()))].sort().join(',');
    throw invalidArgument(`Model does not support the requested response modalities: ${asked}`);
  }

  const ic = isRecord(gc.imageConfig) ? gc.imageConfig : {};
  const aspectRatio = string('generation_config.image_config.aspect_ratio', ic.aspectRatio);
  const imageSize = string('generation_config.image_config.image_size', ic.imageSize);
  for (const k of ['temperature', 'topP', 'presencePenalty', 'frequencyPenalty'] as const) float(`generation_config.${snake(k)}`, gc[k]);
  for (const k of ['topK', 'candidateCount', 'maxOutputTokens'] as const) int32(`generation_config.${snake(k)}`, gc[k]);
  if (aspectRatio !== undefined && !ASPECT_RATIOS.includes(aspectRatio)) {
    throw invalidArgument(`Unsupported aspect ratio "${aspectRatio}". Supported values: ${ASPECT_RATIOS.join(', ')}.`);
  }
  // Google rejects lower-case sizes such as "1k".
  if (imageSize !== undefined && !IMAGE_SIZES.includes(imageSize)) {
    throw invalidArgument(`Unsupported image size "${imageSize}". Supported values: ${IMAGE_SIZES.join(', ')}.`);
  }
  checkModelRules(profile.id, aspectRatio, imageSize, thinkingLevelOf(gc));
  const seed = int32('generation_config.seed', gc.seed);
  const parsed: ParsedRequest = { prompt, modalities, wantsImage: profile.image && modalities.includes('IMAGE'), inputImages };
  if (aspectRatio !== undefined) parsed.aspectRatio = aspectRatio;
  if (imageSize !== undefined) parsed.imageSize = imageSize;
  if (seed !== undefined) parsed.seed = seed;
  return parsed;
}

/** What kind of 200 answer to build. */
export type AnswerKind = 'ok' | 'textOnly' | 'imageSafety' | 'promptBlock';

export interface AnswerContext {
  profile: ModelProfile;
  req: ParsedRequest;
  kind: AnswerKind;
  responseId: string;
  /** Pad the final image to about this many bytes (0 = none). */
  imageBytes: number;
  /** Length of the thoughtSignature of a thinking model's final image. @default 88 */
  signatureChars?: number;
}

const IMAGE_SAFETY_MESSAGE =
  "Unable to show the generated image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy. " +
  'You will not be charged for blocked images. Try rephrasing the prompt. If you think this was a mistake, send feedback.';

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

function imageTokens(profile: ModelProfile, imageSize: string | undefined): number {
  const info = findModel(profile.id);
  const size = info && effectiveSize(info, imageSize);
  const listed = size && info.tokensPerImage[size];
  if (listed) return listed;
  if (!profile.thinking) return 1290;
  if (profile.format === 'jpeg') return imageSize === '4K' ? 2000 : 1120;
  return ({ '512': 747, '1K': 1120, '2K': 1680, '4K': 2520 } as Record<string, number>)[imageSize ?? '1K'] ?? 1120;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** An opaque, deterministic base64 signature of about `chars` characters (whole quads), as long as real ones can be. */
function signature(seed: string, chars: number): string {
  const bytes = Math.ceil(chars / 4) * 3;
  const blocks: Buffer[] = [];
  for (let i = 0, n = 0; n < bytes; i++, n += 32) blocks.push(digest(`${i}\n${seed}`));
  return Buffer.concat(blocks).subarray(0, bytes).toString('base64');
}

/** Usage for the parts sent so far (streams report it cumulatively). Thought images are not charged. */
export function usageFor(ctx: AnswerContext, parts: Part[]): UsageMetadata {
  const promptText = Math.max(1, words(ctx.req.prompt));
  const promptDetails: ModalityTokenCount[] = [{ modality: 'TEXT', tokenCount: promptText }];
  if (ctx.req.inputImages) promptDetails.push({ modality: 'IMAGE', tokenCount: 258 * ctx.req.inputImages });
  const promptTokens = promptText + 258 * ctx.req.inputImages;
  let text = 0;
  let thoughts = 0;
  let images = 0;
  for (const p of parts) {
    if (p.thought) thoughts += p.text ? 40 + words(p.text) * 2 : 0;
    else if (p.text) text += words(p.text);
    else if (p.inlineData) images += imageTokens(ctx.profile, ctx.req.imageSize);
  }
  const u: UsageMetadata = { promptTokenCount: promptTokens };
  if (text + images > 0) u.candidatesTokenCount = text + images;
  u.totalTokenCount = promptTokens + text + images + thoughts;
  if (thoughts > 0) u.thoughtsTokenCount = thoughts;
  u.promptTokensDetails = promptDetails;
  if (images > 0) u.candidatesTokensDetails = [{ modality: 'IMAGE', tokenCount: images }];
  return u;
}

function renderKey(ctx: AnswerContext): string {
  return `${ctx.profile.id}\n${ctx.req.seed ?? ''}\n${ctx.req.prompt}`;
}

/** The parts of a successful answer, in the order the model emits them. */
function answerParts(ctx: AnswerContext): Part[] {
  const { req, profile } = ctx;
  const parts: Part[] = [];
  const subject = req.prompt.length > 120 ? `${req.prompt.slice(0, 117)}...` : req.prompt;
  if (ctx.kind === 'textOnly') {
    return [{ text: `I can describe it instead: ${subject}. Imagine soft light and a balanced composition.` }];
  }
  if (!req.wantsImage) return [{ text: `Here is a short description of ${subject}.` }];
  const size = renderSize(req.aspectRatio, req.imageSize);
  if (profile.thinking) {
    parts.push({ text: `**Composing the scene**\n\nI'm planning the layout for "${subject}", then refining colours and light.`, thought: true });
    const interim = renderImage({ key: renderKey(ctx), width: Math.max(8, size.width >> 1), height: Math.max(8, size.height >> 1), format: 'png', sketch: true });
    parts.push({ inlineData: { mimeType: interim.mimeType, data: interim.data.toString('base64') }, thought: true });
  } else if (req.modalities.includes('TEXT')) {
    parts.push({ text: `Here is the image you asked for: ${subject}` });
  }
  const img = renderImage({ key: renderKey(ctx), ...size, format: profile.format, padToBytes: ctx.imageBytes });
  const finalPart: Part = { inlineData: { mimeType: img.mimeType, data: img.data.toString('base64') } };
  // Seeded like the picture it signs: the same request gets the same image and signature in either mode, so a folder
  // fetched from a batch equals the streaming one byte for byte (a real server signs each answer anew).
  if (profile.thinking) finalPart.thoughtSignature = signature(renderKey(ctx), ctx.signatureChars ?? 88);
  parts.push(finalPart);
  return parts;
}

/** The full unary answer. */
export function buildResponse(ctx: AnswerContext): GenerateContentResponse {
  const base = { modelVersion: ctx.profile.id, responseId: ctx.responseId };
  if (ctx.kind === 'promptBlock') {
    return { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: usageFor(ctx, []), ...base };
  }
  if (ctx.kind === 'imageSafety') {
    return {
      candidates: [{ content: { role: 'model' }, finishReason: 'IMAGE_SAFETY', finishMessage: IMAGE_SAFETY_MESSAGE, index: 0 }],
      usageMetadata: usageFor(ctx, []),
      ...base,
    };
  }
  const parts = answerParts(ctx);
  return {
    candidates: [{ content: { parts, role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata: usageFor(ctx, parts),
    ...base,
  };
}

/** Splits an answer into SSE chunks: one per part with cumulative usage, then a final chunk with finishReason. */
export function streamChunks(ctx: AnswerContext, full: GenerateContentResponse): GenerateContentResponse[] {
  const cand = full.candidates?.[0];
  const parts = cand?.content?.parts;
  if (!cand || !parts || parts.length === 0) return [full];
  const base = { modelVersion: full.modelVersion, responseId: full.responseId };
  const chunks: GenerateContentResponse[] = parts.map((p, i) => ({
    candidates: [{ content: { parts: [p], role: 'model' }, index: 0 }],
    usageMetadata: usageFor(ctx, parts.slice(0, i + 1)),
    ...base,
  }));
  chunks.push({
    candidates: [{ content: { role: 'model' }, finishReason: cand.finishReason ?? 'STOP', index: 0 }],
    usageMetadata: full.usageMetadata,
    ...base,
  });
  return chunks;
}

/** Final (non-thought) images in an answer. */
export function countFinalImages(r: GenerateContentResponse): number {
  return (r.candidates?.[0]?.content?.parts ?? []).filter((p) => p.inlineData && !p.thought).length;
}

function thinkingLevelOf(gc: Record<string, unknown>): string | undefined {
  const tc = isRecord(gc.thinkingConfig) ? gc.thinkingConfig : {};
  return string('generation_config.thinking_config.thinking_level', tc.thinkingLevel);
}

/**
 * The registry's per-model rules, answered as 400 INVALID_ARGUMENT the way Google refuses an option a model does not
 * take (e.g. imageSize "512" on Nano Banana 2.1: https://docs.laozhang.ai/en/api-capabilities/nano-banana-2-1-image).
 * The exact wording of Google's message for these cases is not documented; the status and shape are.
 */
function checkModelRules(id: string, aspectRatio: string | undefined, imageSize: string | undefined, thinkingLevel: string | undefined): void {
  const info = findModel(id);
  if (!info) return;
  if (aspectRatio !== undefined && !info.aspectRatios.includes(aspectRatio)) {
    throw invalidArgument(`Aspect ratio "${aspectRatio}" is not supported by models/${id}. Supported values: ${info.aspectRatios.join(', ')}.`);
  }
  if (imageSize !== undefined && (info.defaultSize === undefined || !(info.sizes as readonly string[]).includes(imageSize))) {
    const takes = info.defaultSize === undefined ? 'this model does not take an image size' : `supported values: ${info.sizes.join(', ')}`;
    throw invalidArgument(`Image size "${imageSize}" is not supported by models/${id}; ${takes}.`);
  }
  if (thinkingLevel !== undefined) {
    const levels = info.thinking.kind === 'levels' ? info.thinking.levels.map((l) => l.toUpperCase()) : [];
    if (!levels.includes(thinkingLevel.toUpperCase())) {
      const takes = levels.length ? `supported values: ${levels.join(', ')}` : 'this model does not take a thinking level';
      throw invalidArgument(`Thinking level "${thinkingLevel}" is not supported by models/${id}; ${takes}.`);
    }
  }
}
