// The native Batch API workflow: submit (inline or file), poll, collect. Finishing with streaming mode is handed in
// (options.streamWith); src/run-batch.ts composes it with runToDisk.
export { submitBatch } from './submit.ts';
export type { SubmitResult } from './submit.ts';
export { collectBatch } from './collect.ts';
export type { CollectResult } from './collect.ts';
export { waitForBatch } from './wait.ts';
export { batchStatus, cancelBatch, listBatches } from './status.ts';
export type { BatchStatusEntry, BatchListEntry, StatusOptions } from './status.ts';
export { chooseMode, DEFAULT_BATCH_THRESHOLD } from './mode.ts';
export { parseDuration, formatDuration } from '../internal/duration.ts';
export type { ChooseModeOptions, ModeChoice, RunMode } from './mode.ts';
export { BATCH_EXPIRY_MS, INLINE_LIMIT_BYTES, FILE_LIMIT_BYTES } from './options.ts';
export type { BatchEvent, BatchClientOptions, CollectOptions, WaitOptions, SubmitOptions, StreamRunner } from './options.ts';
export { reasonForGrpcCode } from './results.ts';
export { readState, STATE_FILE } from './state.ts';
export type { BatchRecord, BatchFolderState, RecordCounts } from './state.ts';
