// Hand-written JSON shapes of the Gemini REST endpoints we use (v1beta, camelCase as the server answers).
// Type-only: the emulator imports these too, and shares nothing else with the client.
// Source of truth: the REST reference, https://ai.google.dev/api/generate-content, https://ai.google.dev/api/batch-api
// and https://ai.google.dev/api/files (and real recorded answers, replayed in the tests).

// ---------- generateContent ----------

export interface InlineData {
  mimeType: string;
  /** Standard base64 with padding. */
  data: string;
}

export interface FileData {
  mimeType?: string;
  fileUri: string;
}

export interface Part {
  text?: string;
  inlineData?: InlineData;
  fileData?: FileData;
  /** True for thinking-model interim parts (text or image); never saved as a result. */
  thought?: boolean;
  thoughtSignature?: string;
}

export interface Content {
  role?: 'user' | 'model';
  parts?: Part[];
}

export type Modality = 'TEXT' | 'IMAGE' | 'AUDIO';

export interface ImageConfig {
  aspectRatio?: string;
  imageSize?: string;
}

export interface GenerationConfig {
  responseModalities?: Modality[];
  candidateCount?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  maxOutputTokens?: number;
  thinkingConfig?: { includeThoughts?: boolean; thinkingLevel?: string; thinkingBudget?: number };
  imageConfig?: ImageConfig;
}

export interface SafetySetting {
  category: string;
  threshold: string;
}

export interface GenerateContentRequest {
  contents: Content[];
  systemInstruction?: Content;
  safetySettings?: SafetySetting[];
  generationConfig?: GenerationConfig;
  /** Only inside batch JSONL lines / inline batch requests. */
  model?: string;
}

export interface SafetyRating {
  category: string;
  probability: string;
  blocked?: boolean;
}

export interface Candidate {
  content?: Content;
  finishReason?: string;
  finishMessage?: string;
  index?: number;
  safetyRatings?: SafetyRating[];
}

export interface ModalityTokenCount {
  modality: string;
  tokenCount?: number;
}

export interface UsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  promptTokensDetails?: ModalityTokenCount[];
  candidatesTokensDetails?: ModalityTokenCount[];
}

export interface PromptFeedback {
  blockReason?: string;
  blockReasonMessage?: string;
  safetyRatings?: SafetyRating[];
}

export interface GenerateContentResponse {
  candidates?: Candidate[];
  promptFeedback?: PromptFeedback;
  usageMetadata?: UsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

// ---------- errors (google.rpc.Status in the JSON error envelope) ----------

export interface ErrorInfoDetail {
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo';
  reason: string;
  domain?: string;
  metadata?: Record<string, string>;
}

export interface QuotaViolation {
  quotaMetric?: string;
  quotaId?: string;
  quotaDimensions?: Record<string, string>;
  /** int64 as a string; sometimes absent. */
  quotaValue?: string;
}

export interface QuotaFailureDetail {
  '@type': 'type.googleapis.com/google.rpc.QuotaFailure';
  violations: QuotaViolation[];
}

export interface RetryInfoDetail {
  '@type': 'type.googleapis.com/google.rpc.RetryInfo';
  /** protobuf Duration string: "47s", "0.5s", "45.837906927s". */
  retryDelay: string;
}

export interface HelpDetail {
  '@type': 'type.googleapis.com/google.rpc.Help';
  links: { description: string; url: string }[];
}

export interface LocalizedMessageDetail {
  '@type': 'type.googleapis.com/google.rpc.LocalizedMessage';
  locale: string;
  message: string;
}

export interface OtherDetail {
  '@type': string;
  [field: string]: unknown;
}

export type ErrorDetail =
  | ErrorInfoDetail
  | QuotaFailureDetail
  | RetryInfoDetail
  | HelpDetail
  | LocalizedMessageDetail
  | OtherDetail;

export interface Status {
  /** HTTP status in REST envelopes; gRPC canonical number inside batch results. */
  code: number;
  message: string;
  /** Canonical gRPC code name, e.g. RESOURCE_EXHAUSTED. */
  status?: string;
  details?: ErrorDetail[];
}

export interface ErrorBody {
  error: Status;
}

// ---------- Files API ----------

export type FileState = 'STATE_UNSPECIFIED' | 'PROCESSING' | 'ACTIVE' | 'FAILED';
export type FileSource = 'UPLOADED' | 'GENERATED' | 'REGISTERED';

export interface FileResource {
  /** "files/<id>", id ≤ 40 chars of [a-z0-9-] (batch outputs break this rule: files/batch-<42 chars>). */
  name: string;
  displayName?: string;
  mimeType?: string;
  /** int64 as a string. */
  sizeBytes?: string;
  createTime?: string;
  updateTime?: string;
  expirationTime?: string;
  /** base64 of the hex sha256 digest string. */
  sha256Hash?: string;
  uri?: string;
  downloadUri?: string;
  state?: FileState;
  source?: FileSource;
  error?: Status;
}

export interface UploadStartRequest {
  file?: { displayName?: string; mimeType?: string; sizeBytes?: string; name?: string };
}

export interface UploadFinalResponse {
  file: FileResource;
}

export interface ListFilesResponse {
  files?: FileResource[];
  nextPageToken?: string;
}

// ---------- Batch API ----------

export type BatchState =
  | 'BATCH_STATE_UNSPECIFIED'
  | 'BATCH_STATE_PENDING'
  | 'BATCH_STATE_RUNNING'
  | 'BATCH_STATE_SUCCEEDED'
  | 'BATCH_STATE_FAILED'
  | 'BATCH_STATE_CANCELLED'
  | 'BATCH_STATE_EXPIRED';

export interface InlinedRequest {
  request: GenerateContentRequest;
  metadata?: Record<string, string>;
}

export interface InlinedResponse {
  response?: GenerateContentResponse;
  error?: Status;
  metadata?: Record<string, string>;
}

export interface BatchInputConfig {
  fileName?: string;
  requests?: { requests: InlinedRequest[] };
}

export interface CreateBatchRequest {
  batch: {
    displayName?: string;
    inputConfig: BatchInputConfig;
    priority?: string;
  };
}

/** All int64 counts are JSON strings; zero counts are omitted. */
export interface BatchStats {
  requestCount?: string;
  pendingRequestCount?: string;
  successfulRequestCount?: string;
  failedRequestCount?: string;
}

export interface BatchOutput {
  responsesFile?: string;
  inlinedResponses?: { inlinedResponses: InlinedResponse[] };
}

export interface GenerateContentBatch {
  '@type'?: string;
  name: string;
  model?: string;
  displayName?: string;
  inputConfig?: BatchInputConfig;
  output?: BatchOutput;
  createTime?: string;
  updateTime?: string;
  endTime?: string;
  batchStats?: BatchStats;
  state: BatchState;
}

/** A long-running operation as returned by create/get/list. */
export interface BatchOperation {
  /** "batches/<36 [a-z0-9]>" */
  name: string;
  metadata: GenerateContentBatch;
  done?: boolean;
  error?: Status;
  response?: BatchOutput & { '@type'?: string };
}

export interface ListBatchesResponse {
  operations?: BatchOperation[];
  nextPageToken?: string;
}

/** One line of a batch input JSONL file. */
export interface BatchInputLine {
  key: string;
  request: GenerateContentRequest;
}

/** One line of a batch output file (files/batch-<id>), in input order. */
export interface BatchOutputLine {
  key?: string;
  response?: GenerateContentResponse;
  error?: Status;
}

/** models.get / one entry of models.list (https://ai.google.dev/api/models#Model). */
export interface ModelResource {
  name: string;
  baseModelId?: string;
  version?: string;
  displayName?: string;
  description?: string;
  inputTokenLimit?: number;
  outputTokenLimit?: number;
  supportedGenerationMethods?: string[];
  /** Whether the model supports thinking. */
  thinking?: boolean;
  temperature?: number;
  maxTemperature?: number;
  topP?: number;
  topK?: number;
}

export interface ListModelsResponse {
  models?: ModelResource[];
  nextPageToken?: string;
}
