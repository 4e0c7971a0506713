// The transport's public surface: one attempt per call, interpretation in outcome.ts, never a retry.
export { GeminiClient, DEFAULT_BASE_URL } from './client.ts';
export type { GeminiClientOptions, CallOptions, JsonCallOptions, RawCallOptions } from './client.ts';
export { outcomeFromResponse, outcomeFromError, errorFromOutcome } from './outcome.ts';
export type { InterpretOptions } from './outcome.ts';
export { buildRequest, REINFORCE_INSTRUCTION } from './request.ts';
export type { BuildRequestOptions } from './request.ts';
export { uploadFile, getFile, listFiles, deleteFile, downloadFile, DEFAULT_CHUNK_BYTES } from './files.ts';
export type { UploadSource, UploadOptions, FileCallOptions, ListOptions } from './files.ts';
export { createBatch, getBatch, listBatches, cancelBatch, deleteBatch, isTerminal, batchCounts } from './batches.ts';
export type { BatchInput, BatchCallOptions, CreateBatchOptions, ListBatchesOptions, BatchCounts } from './batches.ts';
export { modelPath, fileId, batchId } from './names.ts';
export { createRedactor, REDACTED } from '../internal/redact.ts';
export type { Redactor } from '../internal/redact.ts';
export type * from './wire.ts';
