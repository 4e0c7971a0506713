// Typed errors with data fields. Only run-level failures throw; job failures are Result values.
import type { ErrorReason } from './types.ts';

export type ErrorCode =
  | 'INPUT'
  | 'OPTION'
  | 'AUTH'
  | 'PERMISSION'
  | 'MODEL_NOT_FOUND'
  | 'QUOTA_EXHAUSTED'
  | 'BILLING'
  | 'BUDGET'
  | 'API'
  | 'BATCH'
  | 'STORAGE'
  | 'SHARED_QUOTA';

export class ImageBatchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export interface InputIssue {
  file: string;
  /** 1-based line (for CSV, the line where the record starts). */
  line: number;
  /** The field at fault, when one is. */
  field?: string;
  message: string;
}

/** Malformed input: every bad line is listed, nothing was sent. */
export class InputError extends ImageBatchError {
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[]) {
    super('INPUT', issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}

export function formatIssue(i: InputIssue): string {
  return `${i.file}:${i.line}: ${i.field ? `${i.field}: ` : ''}${i.message}`;
}

/** An option with a bad value. */
export class OptionError extends ImageBatchError {
  readonly option: string;
  readonly value: unknown;
  constructor(option: string, value: unknown, expected: string) {
    super('OPTION', `option ${option}: expected ${expected}, got ${safeValue(value)}`);
    this.option = option;
    this.value = value;
  }
}

function safeValue(v: unknown): string {
  try {
    const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return typeof v;
  }
}

/** Missing, invalid or expired API key. Ends the run. */
export class AuthError extends ImageBatchError {
  readonly httpStatus?: number;
  readonly errorReason?: string;
  constructor(message: string, fields: { httpStatus?: number; errorReason?: string } = {}) {
    super('AUTH', message);
    this.httpStatus = fields.httpStatus;
    this.errorReason = fields.errorReason;
  }
}

/** 403 PERMISSION_DENIED (e.g. the API is not enabled on the key's project). Ends the run. */
export class PermissionError extends ImageBatchError {
  readonly httpStatus = 403;
  /** ErrorInfo.reason, e.g. SERVICE_DISABLED. */
  readonly errorReason?: string;
  /** The page that enables the API, when the server named one (SERVICE_DISABLED). */
  readonly activationUrl?: string;
  constructor(message: string, fields: { errorReason?: string; activationUrl?: string } = {}) {
    super('PERMISSION', message);
    this.errorReason = fields.errorReason;
    this.activationUrl = fields.activationUrl;
  }
}

/** 404 for the model: before a run (preflight, nothing sent) or during one (ends the run). */
export class ModelNotFoundError extends ImageBatchError {
  readonly model: string;
  /** What the server's message says: shut down, closed to new users, or never existed. @default 'not_found' */
  readonly reason: 'shut_down' | 'closed_to_new_users' | 'not_found';
  /** The model to use instead, from the model registry, when it knows one. */
  readonly replacement?: string;
  constructor(model: string, message: string, fields: { reason?: ModelNotFoundError['reason']; replacement?: string } = {}) {
    super('MODEL_NOT_FOUND', message);
    this.model = model;
    this.reason = fields.reason ?? 'not_found';
    this.replacement = fields.replacement;
  }
}

/** A quota that will not come back soon (per day, limit 0, or a delay over the threshold). Ends the run. */
export class QuotaExhaustedError extends ImageBatchError {
  readonly quotaId?: string;
  readonly quotaLimit?: number;
  readonly retryAfterMs?: number;
  /** Epoch ms when the server says the window resets, when known. */
  readonly resetAt?: number;
  constructor(message: string, fields: { quotaId?: string; quotaLimit?: number; retryAfterMs?: number; resetAt?: number } = {}) {
    super('QUOTA_EXHAUSTED', message);
    this.quotaId = fields.quotaId;
    this.quotaLimit = fields.quotaLimit;
    this.retryAfterMs = fields.retryAfterMs;
    this.resetAt = fields.resetAt;
  }
}

/** A 429 that is about money, not rate: prepaid credits depleted, a spending cap, a quota of 0. Ends the run at once. */
export class BillingError extends ImageBatchError {
  readonly httpStatus?: number;
  readonly quotaId?: string;
  constructor(message: string, fields: { httpStatus?: number; quotaId?: string } = {}) {
    super('BILLING', message);
    this.httpStatus = fields.httpStatus;
    this.quotaId = fields.quotaId;
  }
}

/** --max-cost reached: no new work was scheduled. */
export class BudgetExceededError extends ImageBatchError {
  readonly spentUsd: number;
  readonly maxCostUsd: number;
  constructor(spentUsd: number, maxCostUsd: number) {
    super('BUDGET', `spend would pass the budget: $${spentUsd.toFixed(4)} spent of $${maxCostUsd.toFixed(4)}`);
    this.spentUsd = spentUsd;
    this.maxCostUsd = maxCostUsd;
  }
}

/** --max-cost in batch mode: the submission's estimate at batch prices passes the cap; nothing was sent (exit 2). */
export class BatchBudgetError extends ImageBatchError {
  readonly estimateUsd: number;
  readonly maxCostUsd: number;
  readonly requests: number;
  constructor(estimateUsd: number, maxCostUsd: number, requests: number) {
    super(
      'BUDGET',
      `the batch of ${requests} request(s) is estimated at $${estimateUsd.toFixed(4)} (batch prices), over --max-cost $${maxCostUsd.toFixed(4)}; nothing was sent`,
    );
    this.estimateUsd = estimateUsd;
    this.maxCostUsd = maxCostUsd;
    this.requests = requests;
  }
}


/** A non-2xx answer from a Files/Batches call (the batch workflow does not go through the job retry path). */
export class ApiError extends ImageBatchError {
  /** 0 when no HTTP answer arrived (network failure or per-attempt timeout). */
  readonly httpStatus: number;
  readonly status?: string;
  readonly retryAfterMs?: number;
  /** The same classification a generateContent attempt would get (quota, server, network, timeout, ...). */
  readonly reason?: ErrorReason;
  readonly quotaId?: string;
  constructor(
    httpStatus: number,
    message: string,
    fields: { status?: string; retryAfterMs?: number; reason?: ErrorReason; quotaId?: string } = {},
  ) {
    super('API', message);
    this.httpStatus = httpStatus;
    this.status = fields.status;
    this.retryAfterMs = fields.retryAfterMs;
    this.reason = fields.reason;
    this.quotaId = fields.quotaId;
  }
}

/** A batch job ended in a state we cannot collect from. */
export class BatchError extends ImageBatchError {
  readonly batchName: string;
  readonly state?: string;
  constructor(batchName: string, message: string, state?: string) {
    super('BATCH', message);
    this.batchName = batchName;
    this.state = state;
  }
}

/** The output folder or cache could not be used. */
export class StorageError extends ImageBatchError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('STORAGE', message, options);
    this.path = path;
  }
}

/** The shared quota's Redis stayed unreachable longer than its timeout: nothing new could start safely. */
export class SharedQuotaUnavailableError extends ImageBatchError {
  /** How long Redis had been unreachable (ms). */
  readonly downMs: number;
  constructor(message: string, downMs: number, options?: { cause?: unknown }) {
    super('SHARED_QUOTA', message, options);
    this.downMs = downMs;
  }
}

/** Errors that end a run (exit code 3 in the CLI). */
export type RunLevelError = AuthError | PermissionError | ModelNotFoundError | QuotaExhaustedError | BillingError | BudgetExceededError | SharedQuotaUnavailableError;

export const isImageBatchError = (e: unknown): e is ImageBatchError => e instanceof ImageBatchError;
export const isInputError = (e: unknown): e is InputError => e instanceof InputError;
export const isOptionError = (e: unknown): e is OptionError => e instanceof OptionError;
export const isAuthError = (e: unknown): e is AuthError => e instanceof AuthError;
export const isQuotaExhaustedError = (e: unknown): e is QuotaExhaustedError => e instanceof QuotaExhaustedError;
export const isBillingError = (e: unknown): e is BillingError => e instanceof BillingError;
export const isBatchBudgetError = (e: unknown): e is BatchBudgetError => e instanceof BatchBudgetError;
export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;
export const isRunLevelError = (e: unknown): e is RunLevelError =>
  e instanceof AuthError ||
  e instanceof PermissionError ||
  e instanceof ModelNotFoundError ||
  e instanceof QuotaExhaustedError ||
  e instanceof BillingError ||
  e instanceof BudgetExceededError ||
  e instanceof SharedQuotaUnavailableError;
