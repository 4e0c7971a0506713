// Google error bodies ({"error":{code,message,status,details?}}) with the real texts where they are known.
import type { ErrorBody, ErrorDetail, ErrorInfoDetail, Status } from '../gemini/wire.ts';

/** HTTP status → canonical gRPC status name, as Google puts it in error.status. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** gRPC canonical code numbers, used inside batch results (google.rpc.Status). */
export const GRPC_CODES: Record<string, number> = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
};

export const MESSAGES = {
  internal: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  overloaded: 'The model is overloaded. Please try again later.',
  deadline: 'The request timed out. Please try again.',
  badRequest: 'Request contains an invalid argument.',
  apiKeyInvalid: 'API key not valid. Please pass a valid API key.',
  // https://github.com/dyad-sh/dyad/issues/3626 (message as Google sends it; the envelope is assumed)
  prepaymentDepleted: 'Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.',
  // https://github.com/continuedev/continue/issues/10479, https://github.com/google-gemini/gemini-cli/issues/2020
  exhausted: 'Resource has been exhausted (e.g. check quota).',
  unregistered:
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
} as const;

export function statusName(httpStatus: number): string {
  return STATUS_NAMES[httpStatus] ?? (httpStatus >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
}

/** Thrown inside handlers; the server turns it into a JSON error response. */
export class HttpError extends Error {
  readonly httpStatus: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;
  constructor(httpStatus: number, message: string, options: { status?: string; details?: ErrorDetail[]; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.httpStatus = httpStatus;
    const error: Status = { code: httpStatus, message, status: options.status ?? statusName(httpStatus) };
    if (options.details && options.details.length > 0) error.details = options.details;
    this.body = { error };
    this.headers = options.headers ?? {};
  }
}

export const invalidArgument = (message: string): HttpError => new HttpError(400, message);
export const notFound = (message: string): HttpError => new HttpError(404, message);

/** The canned error a given HTTP status gets when injected as a fault or outage. */
export function faultError(httpStatus: number): HttpError {
  switch (httpStatus) {
    case 503:
      return new HttpError(503, MESSAGES.overloaded);
    case 504:
      return new HttpError(504, MESSAGES.deadline);
    case 400:
      return new HttpError(400, MESSAGES.badRequest);
    case 500:
      return new HttpError(500, MESSAGES.internal);
    default:
      return new HttpError(httpStatus, httpStatus >= 500 ? MESSAGES.internal : MESSAGES.badRequest);
  }
}

/** The seeded 429/503 faults that are not the quota engine's: billing, detail-less rate, model capacity. */
export function pushbackFault(kind: 'billing429' | 'bare429' | 'capacity503', model: string): HttpError {
  switch (kind) {
    case 'billing429':
      return new HttpError(429, MESSAGES.prepaymentDepleted);
    case 'bare429':
      return new HttpError(429, MESSAGES.exhausted);
    case 'capacity503':
      // Shape of https://github.com/google-gemini/gemini-cli/issues/23520 and
      // https://github.com/badrisnarayanan/antigravity-claude-proxy/issues/197 (captured on the Code Assist endpoint).
      return new HttpError(503, `No capacity available for model ${model} on the server`, {
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'MODEL_CAPACITY_EXHAUSTED', domain: 'googleapis.com', metadata: { model } }],
      });
  }
}

/** The ErrorInfo detail Google attaches to key problems. */
function errorInfo(reason: string): ErrorInfoDetail {
  return { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } };
}

export function apiKeyInvalid(): HttpError {
  return new HttpError(400, MESSAGES.apiKeyInvalid, {
    details: [
      errorInfo('API_KEY_INVALID'),
      { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: MESSAGES.apiKeyInvalid },
    ],
  });
}

export function unregisteredCaller(): HttpError {
  return new HttpError(403, MESSAGES.unregistered, {
    details: [errorInfo('CONSUMER_INVALID')],
  });
}

export function modelNotFound(model: string, method: string, apiVersion: string): HttpError {
  return notFound(
    `models/${model} is not found for API version ${apiVersion}, or is not supported for ${method}. ` +
      'Call ListModels to see the list of available models and their supported methods.',
  );
}

/** Seconds with up to millisecond precision, trimmed: 12345 → "12.345", 47000 → "47". */
export function secondsText(ms: number): string {
  return (Math.max(0, Math.ceil(ms)) / 1000).toFixed(3).replace(/\.?0+$/, '');
}

export interface QuotaViolationInfo {
  metric: string;
  quotaId: string;
  limit: number;
  model: string;
  /** Real (scaled) ms until the window ends. */
  retryMs: number;
}

/** The 429 Google sends for an exceeded quota: Help, QuotaFailure, RetryInfo, in that order. */
export function quotaExceeded(v: QuotaViolationInfo, retryAfterHeader: boolean): HttpError {
  const secs = secondsText(v.retryMs);
  const message =
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, ' +
    'head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. ' +
    `\n* Quota exceeded for metric: ${v.metric}, limit: ${v.limit}, model: ${v.model}\nPlease retry in ${secs}s.`;
  const headers: Record<string, string> = {};
  // Retry-After only carries whole seconds; round up so a client never comes back early.
  if (retryAfterHeader) headers['retry-after'] = String(Math.max(1, Math.ceil(v.retryMs / 1000)));
  return new HttpError(429, message, {
    headers,
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: v.metric,
            quotaId: v.quotaId,
            quotaDimensions: { location: 'global', model: v.model },
            quotaValue: String(v.limit),
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${secs}s` },
    ],
  });
}
