// The public library surface: named re-exports only.
export type {
  Job,
  JobInput,
  JobSource,
  ReferenceImage,
  ImageData,
  Usage,
  Outcome,
  ErrorOutcome,
  ErrorReason,
  QuotaViolationInfo,
  FailureReason,
  SavedImage,
  Result,
  SucceededResult,
  FailedResult,
  RunEvent,
  RunSummary,
} from './types.ts';
export * from './errors.ts';
export { DEFAULT_MODEL, DEFAULTS } from './defaults.ts';
export { VERSION } from './internal/version.ts';
export { resolveOptions } from './options.ts';
export { MODELS, findModel, replacementFor } from './models/index.ts';
export type { ImageSize, ModelInfo, ModelPrices, ModelStatus, Source, ThinkingLevel, ThinkingSupport } from './models/index.ts';
export type { GenerateOptions, JobsSource, RunToDiskOptions } from './options.ts';
export { generateImages, cacheKeyOf } from './run.ts';
export { toJob } from './core/job.ts';
export type { GenerateImagesOptions } from './run.ts';
export { runToDisk } from './run-disk.ts';
export { runBatch, waitForBatch, collectBatch } from './run-batch.ts';
export type { RunBatchOptions } from './run-batch.ts';
export { openInput, readJobs, validateInput, jobKey } from './input/index.ts';
export type { InputOptions } from './input/index.ts';
export { ImageCache } from './storage/cache.ts';
export { readManifest } from './storage/manifest.ts';
export type { ManifestEntry, ManifestFile } from './storage/manifest.ts';
export { loadResumeIndex } from './storage/resume.ts';
export type { ResumeIndex } from './storage/resume.ts';
export { writeGallery } from './report/gallery.ts';
export { summarize } from './report/summary.ts';
export { costOfUsage, estimateCost, knownModel } from './report/cost.ts';
export { formatMs, formatUsd } from './report/format.ts';
export { sharedQuotaStatus } from './quota/index.ts';
export type { SharedQuotaOptions, QuotaStatus, ModelQuotaStatus } from './quota/index.ts';
export { GeminiClient } from './gemini/client.ts';
export type { GeminiClientOptions } from './gemini/client.ts';
export { buildRequest } from './gemini/request.ts';
export { systemClock, FakeClock } from './internal/clock.ts';
export { seededRandom } from './internal/random.ts';
export type { Clock } from './internal/clock.ts';
export {
  submitBatch,
  batchStatus,
  cancelBatch,
  listBatches,
  chooseMode,
  parseDuration,
  DEFAULT_BATCH_THRESHOLD,
  BATCH_EXPIRY_MS,
  readState as readBatchState,
} from './batch/index.ts';
export type {
  SubmitResult,
  CollectResult,
  BatchStatusEntry,
  BatchListEntry,
  StatusOptions,
  ChooseModeOptions,
  ModeChoice,
  RunMode,
  BatchEvent,
  BatchClientOptions,
  CollectOptions,
  WaitOptions,
  SubmitOptions,
  BatchRecord,
  BatchState,
} from './batch/index.ts';
