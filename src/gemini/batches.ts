// Batch API calls (https://ai.google.dev/gemini-api/docs/batch-mode), raw REST so batchStats and the operation error stay visible
// (the SDK drops both). Nothing is retried or polled here: batch/ owns the workflow.
import type { GeminiClient } from './client.ts';
import { batchId, modelPath } from './names.ts';
import type { BatchOperation, BatchState, CreateBatchRequest, InlinedRequest, ListBatchesResponse } from './wire.ts';

export type BatchInput = { fileName: string } | { requests: InlinedRequest[] };

export interface BatchCallOptions {
  /** @default none */
  signal?: AbortSignal;
  /** @default the client's timeoutMs */
  timeoutMs?: number;
}

export interface CreateBatchOptions extends BatchCallOptions {
  /** @default none (the server accepts a missing display name) */
  displayName?: string;
}

export interface ListBatchesOptions extends BatchCallOptions {
  /** @default server default */
  pageSize?: number;
}

export interface BatchCounts {
  total: number;
  pending: number;
  succeeded: number;
  failed: number;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED']);

/** POST models/{model}:batchGenerateContent. Not idempotent: calling twice makes two jobs. */
export async function createBatch(client: GeminiClient, model: string, input: BatchInput, options: CreateBatchOptions = {}): Promise<BatchOperation> {
  const inputConfig = 'fileName' in input ? { fileName: input.fileName } : { requests: { requests: input.requests } };
  const body: CreateBatchRequest = { batch: { ...(options.displayName ? { displayName: options.displayName } : {}), inputConfig } };
  const { displayName: _unused, ...call } = options;
  return (await client.requestJson<BatchOperation>('POST', `${modelPath(model)}:batchGenerateContent`, { ...call, body })).body;
}

export async function getBatch(client: GeminiClient, name: string, options: BatchCallOptions = {}): Promise<BatchOperation> {
  return (await client.requestJson<BatchOperation>('GET', `batches/${batchId(name)}`, options)).body;
}

/** Every batch operation, fetching pages lazily as the caller iterates. */
export async function* listRemoteBatches(client: GeminiClient, options: ListBatchesOptions = {}): AsyncGenerator<BatchOperation> {
  let pageToken: string | undefined;
  do {
    const { body } = await client.requestJson<ListBatchesResponse>('GET', 'batches', {
      signal: options.signal,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      query: { pageSize: options.pageSize, pageToken },
    });
    for (const op of body.operations ?? []) yield op;
    pageToken = body.nextPageToken || undefined;
  } while (pageToken);
}

export async function cancelRemoteBatch(client: GeminiClient, name: string, options: BatchCallOptions = {}): Promise<void> {
  await client.requestJson('POST', `batches/${batchId(name)}:cancel`, { ...options, body: {} });
}

export async function deleteBatch(client: GeminiClient, name: string, options: BatchCallOptions = {}): Promise<void> {
  await client.requestJson('DELETE', `batches/${batchId(name)}`, options);
}

/** True for SUCCEEDED, FAILED, CANCELLED, EXPIRED, in the wire (BATCH_STATE_) or SDK (JOB_STATE_) spelling. */
export function isTerminal(state: BatchState | string | undefined): boolean {
  if (typeof state !== 'string') return false;
  return TERMINAL.has(state.replace(/^(BATCH|JOB)_STATE_/, ''));
}

/** batchStats as numbers; int64 strings parsed, omitted (zero) fields read as 0. */
export function batchCounts(op: BatchOperation): BatchCounts {
  const s = op.metadata?.batchStats ?? {};
  return {
    total: int64(s.requestCount),
    pending: int64(s.pendingRequestCount),
    succeeded: int64(s.successfulRequestCount),
    failed: int64(s.failedRequestCount),
  };
}

function int64(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
  return 0;
}
