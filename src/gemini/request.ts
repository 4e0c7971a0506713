// The ONE request builder: streaming mode and batch mode send exactly the same body for a job,
// so a result never depends on the mode that produced it.
import type { ImageData, Job } from '../types.ts';
import type { GenerateContentRequest, GenerationConfig, ImageConfig, Part } from './wire.ts';

/** Appended to the prompt when a previous attempt came back without an image. */
export const REINFORCE_INSTRUCTION = 'Respond with an image.';

export interface BuildRequestOptions {
  /** Ask for an image only, and say so in the prompt (retry after a text-only answer). @default false */
  reinforce?: boolean;
  /** Run-wide default; the job's own aspectRatio wins. @default unset (model default) */
  aspectRatio?: string;
  /** Run-wide default ('1K' | '2K' | '4K'); the job's own imageSize wins. @default unset (model default) */
  imageSize?: string;
  /** Bytes of job.images in the same order, read by the caller. @default [] */
  references?: ImageData[];
  /** Sent as systemInstruction. @default none */
  systemInstruction?: string;
}

export function buildRequest(job: Job, options: BuildRequestOptions = {}): GenerateContentRequest {
  const prompt = options.reinforce ? `${job.prompt.trimEnd()}\n\n${REINFORCE_INSTRUCTION}` : job.prompt;
  const parts: Part[] = [{ text: prompt }];
  for (const ref of options.references ?? []) {
    parts.push({ inlineData: { mimeType: ref.mimeType, data: Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength).toString('base64') } });
  }

  const generationConfig: GenerationConfig = {
    responseModalities: options.reinforce ? ['IMAGE'] : ['TEXT', 'IMAGE'],
  };
  const aspectRatio = job.aspectRatio ?? options.aspectRatio;
  const imageSize = job.imageSize ?? options.imageSize;
  if (aspectRatio || imageSize) {
    const imageConfig: ImageConfig = {};
    if (aspectRatio) imageConfig.aspectRatio = aspectRatio;
    if (imageSize) imageConfig.imageSize = imageSize;
    generationConfig.imageConfig = imageConfig;
  }
  if (job.seed !== undefined) generationConfig.seed = job.seed;
  // Gemini 3 image models take a level (https://googleapis.github.io/js-genai/release_docs/enums/types.ThinkingLevel.html).
  if (job.thinking !== undefined) generationConfig.thinkingConfig = { thinkingLevel: job.thinking.toUpperCase() };

  const request: GenerateContentRequest = { contents: [{ role: 'user', parts }], generationConfig };
  if (options.systemInstruction) request.systemInstruction = { parts: [{ text: options.systemInstruction }] };
  return request;
}
