// One Result builder for both modes: a parsed answer (Outcome) of a job → the public Result.
import { sha256Hex } from '../internal/hash.ts';
import type { FailureReason, Job, Outcome, Result, SavedImage, SucceededResult } from '../types.ts';
import { costOf } from './price.ts';
import type { PricedMode } from './price.ts';

export interface ResultMeta {
  /** The model the job ran on (its own, or the run's). */
  model: string;
  /** HTTP attempts made for the job (1 for a batch answer). */
  attempts: number;
  /** From the first attempt's start to the answer (a batch answer: the batch's turnaround). */
  latencyMs: number;
  /** 'api' (streaming, list price) or 'batch' (Batch API, half price, marked from: 'batch'). */
  mode: PricedMode;
  /** USD per image for a model the registry has no price for. @default none (its cost is unknown: costUsd undefined) */
  pricePerImageUsd?: number;
  /**
   * Hash each image now. A caller whose results all go through OutputFolder.save passes false: save hashes the bytes
   * it writes (provenance included) and fills sha256, so hashing here would only be thrown away. @default true
   */
  hashImages?: boolean;
}

/** The Result of one answered job, priced for the mode it was sent in. */
export function resultOf(job: Job, outcome: Outcome, meta: ResultMeta): Result {
  const { model, mode, attempts, latencyMs } = meta;
  // Plain literals, no object spread: this runs once per answer, and spreading cost several µs a call (a batch
  // fetch builds 100,000 of these on one thread).
  if (outcome.kind === 'image') {
    const images: SavedImage[] = [];
    for (const img of outcome.images) {
      const saved: SavedImage = { mimeType: img.mimeType, data: img.data, bytes: img.data.byteLength, sha256: meta.hashImages === false ? '' : sha256Hex(img.data) };
      if (img.thoughtSignature) saved.thoughtSignature = img.thoughtSignature;
      images.push(saved);
    }
    const r: SucceededResult = { job, model, attempts, latencyMs, status: 'succeeded', usage: outcome.usage, costUsd: costOf(outcome, model, mode, meta.pricePerImageUsd), images, text: outcome.text };
    if (outcome.thoughts) r.thoughts = outcome.thoughts;
    // After thoughts, as the literal had them: the key order is what a Result printed as JSON shows.
    r.from = mode;
    r.modelVersion = outcome.modelVersion;
    return r;
  }
  if (outcome.kind === 'no_image') {
    const message = outcome.message ?? (outcome.text.join(' ').slice(0, 500) || 'the model answered without an image');
    return { job, model, attempts, latencyMs, status: 'failed', reason: 'no_image', message, blockReason: outcome.finishReason, usage: outcome.usage, costUsd: costOf(outcome, model, mode, meta.pricePerImageUsd) };
  }
  if (outcome.kind === 'blocked') {
    return { job, model, attempts, latencyMs, status: 'failed', reason: 'blocked', message: outcome.message ?? `blocked: ${outcome.blockReason}`, blockReason: outcome.blockReason, usage: outcome.usage, costUsd: 0 };
  }
  return { job, model, attempts, latencyMs, status: 'failed', reason: outcome.reason, message: outcome.message, httpStatus: outcome.httpStatus, costUsd: 0 };
}

/** A job that was never answered (its batch expired, failed or was cancelled): nothing sent on its behalf was billed. */
export function unansweredResult(job: Job, model: string, reason: FailureReason, message: string): Result {
  return { job, model, attempts: 0, latencyMs: 0, costUsd: 0, status: 'failed', reason, message };
}
