// Public domain types. Everything a caller sees in results and events is defined here.
import type { ThinkingLevel } from './models/index.ts';

/** A reference image sent with the prompt (editing / composition). */
export interface ReferenceImage {
  /** Local path (resolved by the input reader) or http(s) URL. */
  path: string;
  /** Filled once the bytes are read: lowercase hex sha256, part of the job key. */
  sha256?: string;
  mimeType?: string;
}

/** Where a job came from, for error messages. */
export interface JobSource {
  file: string;
  line: number;
}

/** One unit of work: one request that should produce one image. */
export interface Job {
  /** Stable identity: the user's key, or a hash of model + prompt + request options. */
  key: string;
  /** 0-based position in the input; names the output files. */
  index: number;
  prompt: string;
  /** Overrides the run's model. */
  model?: string;
  aspectRatio?: string;
  imageSize?: string;
  /** `generationConfig.thinkingConfig.thinkingLevel`, only for models that take levels. */
  thinking?: ThinkingLevel;
  seed?: number;
  /** 0-based variant number when one prompt asks for several images (distinct keys). */
  variant?: number;
  images?: ReferenceImage[];
  /** File name stem override, still confined to the output folder. */
  out?: string;
  source?: JobSource;
}

/** What a caller may hand to generateImages(): a full Job, or just a prompt. */
export type JobInput = string | (Partial<Job> & { prompt: string });

export interface ImageData {
  data: Uint8Array;
  mimeType: string;
  /**
   * The part's thoughtSignature, as the raw (base64 text) bytes the server sent: what a later multi-turn edit of this
   * image must send back. Kept out of the manifest (real ones reach a million characters); saved with the image (a PNG
   * iTXt record, else the `.json` sidecar; readThoughtSignature() reads it back).
   */
  thoughtSignature?: Uint8Array;
}

export interface Usage {
  promptTokens: number;
  /** Output tokens, images included. */
  candidatesTokens: number;
  thoughtsTokens: number;
  /** Output tokens of IMAGE modality (1290 per ~1024px image on 2.5-flash-image). */
  imageTokens: number;
  totalTokens: number;
}

/**
 * What one HTTP attempt produced, as classified by gemini/outcome.ts.
 * The scheduler's retry policy reads only these fields; it never sees HTTP.
 */
export type Outcome =
  | {
      kind: 'image';
      /** Final images only: thought (draft) images are never results. */
      images: ImageData[];
      text: string[];
      /** Thought text parts (thinking models), in order. */
      thoughts?: string[];
      usage?: Usage;
      modelVersion?: string;
      responseId?: string;
    }
  | {
      /** HTTP 200 with no final image (finishReason STOP / NO_IMAGE / MAX_TOKENS...). Retried with a reinforced request. */
      kind: 'no_image';
      text: string[];
      finishReason?: string;
      message?: string;
      usage?: Usage;
    }
  | {
      /** A safety outcome: terminal, never retried. */
      kind: 'blocked';
      /** The server's finishReason or promptFeedback.blockReason, kept verbatim. */
      blockReason: string;
      message?: string;
      usage?: Usage;
    }
  | ErrorOutcome;

export interface ErrorOutcome {
  kind: 'error';
  reason: ErrorReason;
  message: string;
  /** HTTP status when there was a response. */
  httpStatus?: number;
  /** Canonical status name from the error body, e.g. RESOURCE_EXHAUSTED. */
  status?: string;
  /** From RetryInfo.retryDelay (or a Retry-After header), when the server announced one. */
  retryAfterMs?: number;
  /**
   * The violation the announced delay is about: the first per-minute one when the QuotaFailure lists one,
   * else its first, e.g. GenerateRequestsPerMinutePerProjectPerModel-FreeTier. Every violation is in `violations`.
   */
  quotaId?: string;
  quotaMetric?: string;
  /** That violation's quotaValue, or the "limit: N" in the message, when known. */
  quotaLimit?: number;
  /** Every QuotaFailure violation, in the server's order: a 429 is read whole, not by one line. */
  violations?: QuotaViolationInfo[];
  /** ErrorInfo.reason, e.g. API_KEY_INVALID, SERVICE_DISABLED, MODEL_CAPACITY_EXHAUSTED. */
  errorReason?: string;
  /** Where to enable the API (ErrorInfo metadata.activationUrl or a Help link) for SERVICE_DISABLED. */
  activationUrl?: string;
  /** What to do about it, from the backend that answered (Vertex: the gcloud command, another --location). */
  advice?: string;
}

/** One QuotaFailure violation as the server listed it. */
export interface QuotaViolationInfo {
  quotaId?: string;
  quotaMetric?: string;
  /** quotaValue, when the server gave one. */
  quotaLimit?: number;
  /** quotaDimensions.model, when present. */
  model?: string;
}

/** Why an attempt failed at the transport/server level. */
export type ErrorReason =
  | 'quota' // 429 (rate or quota: the retry policy reads its violations)
  | 'billing' // 429/402 that no wait fixes: prepaid credits depleted, spending cap reached
  | 'server' // 500/502/503/504
  | 'network' // connection refused/reset, truncated or unparsable 200 body
  | 'timeout' // per-attempt deadline
  | 'invalid_request' // 400 other than a bad key
  | 'auth' // missing/invalid key
  | 'permission' // 403
  | 'not_found' // 404 (unknown model)
  | 'cancelled'; // caller aborted

/** The closed set of reasons a job can end in failure. */
export type FailureReason =
  | 'no_image'
  | 'blocked'
  | ErrorReason
  /** A batch job expired or failed before this request was answered. */
  | 'batch_expired'
  | 'batch_failed'
  /** The image's output name is held by something imagebatch never replaces (a directory). */
  | 'output_conflict';

export interface SavedImage {
  /** Path relative to the output folder (absent when not written to disk). */
  file?: string;
  mimeType: string;
  data: Uint8Array;
  bytes: number;
  sha256: string;
  /** Real pixel size, read from the image header once saved. */
  width?: number;
  height?: number;
  /** How the image differs from the aspectRatio/imageSize asked for, e.g. "asked for imageSize 4K, got 1024×1024". */
  sizeMismatch?: string;
  /** See ImageData.thoughtSignature; saved with the image (ManifestFile.signatureIn). */
  thoughtSignature?: Uint8Array;
}

interface ResultBase {
  job: Job;
  /** The model actually used. */
  model: string;
  /** HTTP attempts made for this job in this run (0 when served from cache or a previous run). */
  attempts: number;
  /** From first attempt start to settle, in ms. */
  latencyMs: number;
  usage?: Usage;
  /**
   * USD, from usage and the price table; 0 for cached results and unbilled failures. Undefined when the answer was
   * billed at a price imagebatch does not know (a model newer than the model registry, no `pricePerImageUsd`).
   */
  costUsd?: number;
  /** 'vertex' when the job ran on Vertex AI; absent for the Gemini Developer API. */
  backend?: 'vertex';
}

export interface SucceededResult extends ResultBase {
  status: 'succeeded';
  images: SavedImage[];
  /** Non-thought text parts of the answer. */
  text: string[];
  /** Thought text parts (thinking models). */
  thoughts?: string[];
  /** 'cache' when materialised from the cache without a request. */
  from?: 'api' | 'cache' | 'batch';
  modelVersion?: string;
}

export interface FailedResult extends ResultBase {
  status: 'failed';
  reason: FailureReason;
  message: string;
  httpStatus?: number;
  /** The server's finishReason/blockReason for blocked and no_image. */
  blockReason?: string;
}

export type Result = SucceededResult | FailedResult;

/** Events for progress displays and --json output. */
export type RunEvent =
  | { type: 'started'; key: string; index: number; attempt: number; at: number }
  | { type: 'retried'; key: string; index: number; attempt: number; reason: string; delayMs: number; at: number }
  /** `costUnknown: true` (and no `costUsd`): billed at a price imagebatch does not know (a model newer than the registry). */
  | { type: 'succeeded'; key: string; index: number; files: string[]; attempts: number; latencyMs: number; costUsd?: number; costUnknown?: true; cached?: boolean; at: number }
  | { type: 'failed'; key: string; index: number; reason: FailureReason; message: string; attempts: number; at: number }
  | { type: 'paused'; untilMs: number; reason: string; quotaId?: string; at: number }
  | { type: 'resumed'; at: number }
  | { type: 'concurrency'; limit: number; inFlight: number; at: number }
  | { type: 'skipped'; key: string; index: number; why: 'done'; at: number }
  /** Something degraded but the run goes on (e.g. the cache could not be used). */
  | { type: 'warning'; message: string; at: number }
  | { type: 'done'; summary: RunSummary; at: number };

/**
 * Answers billed at a price imagebatch does not know (a model newer than the model registry, run without
 * `pricePerImageUsd`): the `costUsd` next to it leaves them out, so the real cost is higher by an unknown amount.
 */
export interface UnpricedPart {
  /** Manifest lines (answers) whose cost is unknown. */
  answers: number;
  /** Images on those lines. */
  images: number;
  /** Their models, sorted. */
  models: string[];
}

/** What one run itself did: the manifest lines it wrote (last line per job for the counts). */
export interface RunPart {
  /** Jobs this run saved (cache hits included). */
  succeeded: number;
  failed: number;
  cached: number;
  attempts: number;
  /** USD of the answers with a known price. */
  costUsd: number;
  /** Present when some answers' price is unknown (not counted in costUsd). */
  unpriced?: UnpricedPart;
}

/** The whole output folder: every job any run recorded in its manifest. */
export interface FolderPart {
  jobs: number;
  succeeded: number;
  failed: number;
  images: number;
  /** Every line's cost, all runs (the lines with a known price). */
  costUsd: number;
  /** Present when some lines' price is unknown (not counted in costUsd). */
  unpriced?: UnpricedPart;
  /** Damaged manifest lines that were skipped (1-based line numbers, the first 100), when there were any. */
  damagedLines?: number[];
  /** How many damaged lines were skipped in all (may exceed damagedLines.length). */
  damaged?: number;
}

/**
 * The top-level counts are about this run's input (every job in it, whether this run or an earlier one settled
 * it); `run` is what this run itself did; `folder` is the whole folder. A summary rebuilt from a folder alone
 * (`imagebatch report`) has no `run`, and its top level is the whole folder.
 */
export interface RunSummary {
  total: number;
  succeeded: number;
  failed: number;
  /** Jobs already done in an earlier run (resume) and not re-run. */
  skipped: number;
  cached: number;
  byReason: Partial<Record<FailureReason, number>>;
  attempts: number;
  wallMs: number;
  imagesPerMinute: number;
  averageImageBytes: number;
  /** USD of the answers with a known price (all of them unless `unpriced` is present). */
  costUsd: number;
  /** Present when some answers were billed at a price imagebatch does not know: the real cost is higher. */
  unpriced?: UnpricedPart;
  /** Set when the run ended early (run-level failure, stop signal, max cost). */
  stoppedBy?: string;
  run?: RunPart;
  folder?: FolderPart;
}
