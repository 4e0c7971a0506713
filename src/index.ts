// The public library surface: named re-exports only, what a library user needs. test/unit/public-api.test.ts holds
// the list, so a new export is a decision; test helpers are under 'imagebatch/testing', the emulator under
// 'imagebatch/emulator', and the CLI imports library modules directly.
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
  UnpricedPart,
} from './types.ts';
export * from './errors.ts';
export { DEFAULT_MODEL, DEFAULTS } from './defaults.ts';
export { VERSION } from './internal/version.ts';
export { MODELS, findModel, replacementFor } from './models/index.ts';
export { preflightModels } from './preflight.ts';
export type { PreflightOptions } from './preflight.ts';
export { getModel, listModels } from './gemini/models.ts';
export type { ListModelsOptions } from './gemini/models.ts';
export type { ModelResource } from './gemini/wire.ts';
export type { ImageSize, ModelInfo, ModelPrices, ModelStatus, Source, ThinkingLevel, ThinkingSupport } from './models/index.ts';
export type { GenerateOptions, JobsSource, RunToDiskOptions } from './options.ts';
export { generateImages } from './run.ts';
export type { GenerateImagesOptions } from './run.ts';
export { runToDisk } from './run-disk.ts';
export { runBatch, waitForBatch, collectBatch } from './run-batch.ts';
export type { RunBatchOptions } from './run-batch.ts';
export { openInput, readJobs, validateInput } from './input/index.ts';
export type { InputOptions } from './input/index.ts';
export { readManifest } from './storage/manifest.ts';
export { readThoughtSignature } from './storage/signature.ts';
export type { ManifestEntry, ManifestFile } from './storage/manifest.ts';
export { sharedQuotaStatus } from './quota/index.ts';
export type { SharedQuotaOptions, QuotaStatus, ModelQuotaStatus } from './quota/index.ts';
export { GeminiClient } from './gemini/client.ts';
export type { GeminiClientOptions } from './gemini/client.ts';
export type { Clock } from './internal/clock.ts';
export {
  submitBatch,
  batchStatus,
  cancelBatch,
  listBatches,
  chooseMode,
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
  StreamRunner,
  BatchRecord,
  RecordCounts,
} from './batch/index.ts';
export { vertexBackend, vertexFromEnv } from './vertex/backend.ts';
export type { VertexOptions } from './vertex/backend.ts';
export type { Backend } from './gemini/backend.ts';
