// One batch answer (a results-file line or an inline response) → the same Result streaming mode would make:
// the same outcome parser and the same Result builder (src/core/result.ts), priced at batch rates, from: 'batch'.
import { outcomeFromResponse } from '../gemini/outcome.ts';
import type { GenerateContentResponse, Status } from '../gemini/wire.ts';
import { resultOf } from '../core/result.ts';
import type { ErrorReason, FailureReason, Job, Outcome, Result } from '../types.ts';

export interface BatchAnswer {
  key?: string;
  response?: GenerateContentResponse;
  error?: Status;
}

/** gRPC canonical code of a per-line error → the reason streaming mode would give the same failure. */
export function reasonForGrpcCode(code: unknown): ErrorReason {
  switch (code) {
    case 8:
      return 'quota';
    case 3:
      return 'invalid_request';
    case 4:
      return 'timeout';
    case 13:
    case 14:
      return 'server';
    default:
      return 'server';
  }
}

export function outcomeOfAnswer(answer: BatchAnswer, redact: (s: string) => string): Outcome {
  if (answer.error && typeof answer.error === 'object') {
    const code = answer.error.code;
    const message = typeof answer.error.message === 'string' && answer.error.message !== '' ? redact(answer.error.message) : `batch line failed (code ${String(code)})`;
    return { kind: 'error', reason: reasonForGrpcCode(code), message, ...(typeof answer.error.status === 'string' ? { status: answer.error.status } : {}) };
  }
  if (answer.response === undefined) return { kind: 'error', reason: 'server', message: 'the batch answered this request with neither a response nor an error' };
  return outcomeFromResponse(answer.response, { redact });
}

/**
 * The Result of one answered request, to be saved (its images' sha256 is filled by OutputFolder.save, which hashes
 * the bytes it writes). latencyMs is the batch's turnaround (one request has no latency of its own).
 */
export function resultOfAnswer(job: Job, model: string, answer: BatchAnswer, latencyMs: number, redact: (s: string) => string, pricePerImageUsd?: number): Result {
  return resultOf(job, outcomeOfAnswer(answer, redact), { model, attempts: 1, latencyMs, mode: 'batch', pricePerImageUsd, hashImages: false });
}

/** Failures worth another try in streaming mode: everything but a safety block (terminal in both modes). */
export function retryableInStream(entry: { status: 'succeeded' | 'failed'; reason?: FailureReason } | undefined): boolean {
  return entry === undefined || (entry.status === 'failed' && entry.reason !== 'blocked');
}
