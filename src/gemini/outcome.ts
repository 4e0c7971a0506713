// The ONLY place Gemini answers are interpreted: a 200 body or an error body becomes an Outcome.
// Everything the retry policy needs (retryAfterMs, quotaId, limit 0, ErrorInfo reason) is pulled out here, once.
import { ApiError, AuthError, PermissionError } from '../errors.ts';
import { systemClock } from '../internal/clock.ts';
import { parseDurationMs } from '../internal/duration.ts';
import { signatureBytes } from '../internal/signature-text.ts';
import type { ErrorOutcome, ErrorReason, ImageData, Outcome, QuotaViolationInfo, Usage } from '../types.ts';
import type { Candidate, GenerateContentResponse, Part, QuotaViolation, UsageMetadata } from './wire.ts';
import { defaultRedactor } from '../internal/redact.ts';
import type { Redactor } from '../internal/redact.ts';

/** finishReasons that mean "a safety system stopped the output": terminal, never retried. */
const SAFETY_FINISH = new Set([
  'SAFETY',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'RECITATION',
  'IMAGE_RECITATION',
]);

const MAX_RAW_MESSAGE = 500;

export interface InterpretOptions {
  /** Applied to every message taken from the server. @default generic API-key redaction */
  redact?: Redactor;
  /** Epoch ms used to turn an HTTP-date Retry-After into a delay. @default the system clock */
  now?: number;
}

/**
 * A 200 generateContent body → image | no_image | blocked (or a 'network' error when it is not a response at all).
 * `inlineData.data` may be the base64 string, or bytes already decoded by the streaming reader (body-reader.ts).
 */
export function outcomeFromResponse(body: unknown, options: InterpretOptions = {}): Outcome {
  const redact = options.redact ?? defaultRedactor;
  if (!isRecord(body)) {
    return { kind: 'error', reason: 'network', message: 'the 200 answer is not a JSON object', httpStatus: 200 };
  }
  // A 200 that carries an error envelope (seen mid-stream) is an error, not an empty answer.
  if (isRecord(body.error)) {
    const code = typeof body.error.code === 'number' ? body.error.code : 500;
    return outcomeFromError(code, JSON.stringify(body), undefined, options);
  }
  const res = body as GenerateContentResponse;
  const usage = usageFrom(res.usageMetadata);
  const withUsage = <T extends object>(o: T): T & { usage?: Usage } => (usage ? { ...o, usage } : o);
  const candidate: Candidate | undefined = Array.isArray(res.candidates) ? res.candidates[0] : undefined;
  const rawParts: unknown = candidate?.content?.parts;
  const parts: Part[] = Array.isArray(rawParts) ? rawParts.filter(isRecord) : [];
  const finals = parts.filter((p) => p.thought !== true);
  const images = finals.map(imageFrom).filter((i): i is ImageData => i !== undefined);
  const text = finals.map((p) => p.text).filter((t): t is string => typeof t === 'string' && t.length > 0);
  const thoughts = parts.filter((p) => p.thought === true && typeof p.text === 'string' && p.text.length > 0).map((p) => redact(p.text!));
  const finishReason = typeof candidate?.finishReason === 'string' ? candidate.finishReason : undefined;
  const finishMessage = typeof candidate?.finishMessage === 'string' ? redact(candidate.finishMessage) : undefined;

  if (images.length > 0) {
    // Built field by field, not spread: every answer with a picture comes through here.
    const o: Extract<Outcome, { kind: 'image' }> = { kind: 'image', images, text: text.map(redact) };
    if (thoughts.length > 0) o.thoughts = thoughts;
    if (typeof res.modelVersion === 'string') o.modelVersion = res.modelVersion;
    if (typeof res.responseId === 'string') o.responseId = res.responseId;
    if (usage) o.usage = usage;
    return o;
  }
  const blockReason = res.promptFeedback?.blockReason;
  if (typeof blockReason === 'string' && blockReason !== '' && !blockReason.endsWith('_UNSPECIFIED')) {
    const msg = res.promptFeedback?.blockReasonMessage;
    return withUsage({ kind: 'blocked' as const, blockReason, ...(typeof msg === 'string' ? { message: redact(msg) } : {}) });
  }
  if (finishReason && SAFETY_FINISH.has(finishReason)) {
    return withUsage({ kind: 'blocked' as const, blockReason: finishReason, ...(finishMessage ? { message: finishMessage } : {}) });
  }
  return withUsage({
    kind: 'no_image' as const,
    text: text.map(redact),
    ...(finishReason ? { finishReason } : {}),
    ...(finishMessage ? { message: finishMessage } : {}),
  });
}

/** A non-2xx answer → ErrorOutcome with reason, retry delay and every quota fact the body states. */
export function outcomeFromError(httpStatus: number, bodyText: string, headers?: Headers, options: InterpretOptions = {}): ErrorOutcome {
  const redact = options.redact ?? defaultRedactor;
  const parsed = parseErrorBody(bodyText);
  const rawMessage = parsed?.message ?? (bodyText.trim() === '' ? `HTTP ${httpStatus}` : truncate(bodyText.trim()));
  const message = redact(rawMessage);
  const details = parsed?.details ?? [];
  const errorInfo = details.find((d) => typeName(d) === 'ErrorInfo');
  const errorReason = typeof errorInfo?.reason === 'string' ? errorInfo.reason : undefined;

  const out: ErrorOutcome = { kind: 'error', reason: reasonFor(httpStatus, rawMessage, errorReason), message, httpStatus };
  if (parsed?.status) out.status = parsed.status;
  if (errorReason) out.errorReason = errorReason;
  const activationUrl = errorReason === 'SERVICE_DISABLED' ? activationUrlFrom(errorInfo, details) : undefined;
  if (activationUrl) out.activationUrl = activationUrl;

  const retryAfterMs = retryDelayFrom(details, rawMessage, headers, options.now ?? systemClock.now());
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;

  const violations = violationsFrom(details);
  if (violations.length > 0) out.violations = violations;
  const main = mainViolation(violations);
  const quotaId = main?.quotaId;
  const quotaMetric = main?.quotaMetric ?? /Quota exceeded for metric: ([^\s,]+)/.exec(rawMessage)?.[1];
  const quotaLimit = main?.quotaLimit ?? toInt(/\blimit: (\d+)/.exec(rawMessage)?.[1]);
  if (typeof quotaId === 'string') out.quotaId = quotaId;
  if (typeof quotaMetric === 'string') out.quotaMetric = quotaMetric;
  if (quotaLimit !== undefined) out.quotaLimit = quotaLimit;
  return out;
}

/** The thrown form of an error outcome, for calls that are not job attempts (Files, Batches). */
export function errorFromOutcome(o: ErrorOutcome): Error {
  if (o.reason === 'auth') {
    return new AuthError(o.message, { ...(o.httpStatus ? { httpStatus: o.httpStatus } : {}), ...(o.errorReason ? { errorReason: o.errorReason } : {}) });
  }
  if (o.reason === 'permission') return new PermissionError(o.message, { errorReason: o.errorReason, activationUrl: o.activationUrl });
  return new ApiError(o.httpStatus ?? 0, o.message, {
    reason: o.reason,
    ...(o.status ? { status: o.status } : {}),
    ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}),
    ...(o.quotaId ? { quotaId: o.quotaId } : {}),
  });
}

// ErrorInfo reasons of a key Google will not serve (blocked by its restrictions, suspended): the fix is another
// key, as for a bad one. https://cloud.google.com/docs/authentication/api-keys#api_key_restrictions ;
// CONSUMER_SUSPENDED: https://github.com/google/generative-ai-docs/issues/356
const KEY_REJECTED = new Set(['API_KEY_INVALID', 'CONSUMER_SUSPENDED', 'API_KEY_SERVICE_BLOCKED', 'API_KEY_HTTP_REFERRER_BLOCKED', 'API_KEY_IP_ADDRESS_BLOCKED', 'API_KEY_ANDROID_APP_BLOCKED', 'API_KEY_IOS_APP_BLOCKED']);

/**
 * 429s that no wait will fix, from real answers:
 * "Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing."
 * (https://github.com/dyad-sh/dyad/issues/3626, https://github.com/JeffOtano/roni/pull/125), and a project's spending cap
 * (https://ai.google.dev/gemini-api/docs/billing). A quota of 0 is decided by the retry policy from quotaLimit.
 */
const BILLING_MESSAGE = /prepayment credits? (are|is) depleted|credits? (are|is) (depleted|exhausted)|spend(ing)? cap|billing (is )?(not enabled|disabled|account)/i;

function reasonFor(httpStatus: number, message: string, errorReason: string | undefined): ErrorReason {
  const badKey = (errorReason !== undefined && KEY_REJECTED.has(errorReason)) || /API key (not valid|expired)/i.test(message);
  // 402: prepaid credit exhausted (RESOURCE_EXHAUSTED); like the billing 429, no delay will fix it.
  if (httpStatus === 429 || httpStatus === 402) return BILLING_MESSAGE.test(message) || httpStatus === 402 ? 'billing' : 'quota';
  if (httpStatus === 408) return 'timeout';
  if (httpStatus >= 500) return 'server';
  if (httpStatus === 401) return 'auth';
  if (httpStatus === 400) return badKey ? 'auth' : 'invalid_request';
  if (httpStatus === 403) {
    // No key at all, or a key Google has revoked or blocked: the fix is a new key, not new permissions.
    // "Your API key was reported as leaked. Please use another API key." (https://github.com/google-gemini-php/laravel/issues/47)
    return badKey || /unregistered callers|API key was reported as leaked/i.test(message) ? 'auth' : 'permission';
  }
  if (httpStatus === 404) return 'not_found';
  return 'invalid_request';
}

/**
 * SERVICE_DISABLED names the page that enables the API in ErrorInfo.metadata.activationUrl and in a Help link, e.g.
 * https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=N
 * (https://github.com/google-gemini/deprecated-generative-ai-python/issues/10, https://github.com/google/generative-ai-docs/issues/74).
 */
function activationUrlFrom(errorInfo: Record<string, unknown> | undefined, details: Record<string, unknown>[]): string | undefined {
  const meta = errorInfo?.metadata;
  if (isRecord(meta) && typeof meta.activationUrl === 'string' && /^https:\/\//.test(meta.activationUrl)) return meta.activationUrl;
  for (const d of details) {
    if (typeName(d) !== 'Help' || !Array.isArray(d.links)) continue;
    for (const l of d.links) if (isRecord(l) && typeof l.url === 'string' && /^https:\/\/.*apis\/api\//.test(l.url)) return l.url;
  }
  return undefined;
}

interface ParsedError {
  message?: string;
  status?: string;
  details: Record<string, unknown>[];
}

function parseErrorBody(text: string): ParsedError | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Some proxies wrap the envelope in a one-element array.
  const envelope = Array.isArray(json) ? json[0] : json;
  if (!isRecord(envelope) || !isRecord(envelope.error)) return undefined;
  const e = envelope.error;
  return {
    message: typeof e.message === 'string' && e.message !== '' ? e.message : undefined,
    status: typeof e.status === 'string' ? e.status : undefined,
    details: Array.isArray(e.details) ? e.details.filter(isRecord) : [],
  };
}

function retryDelayFrom(details: Record<string, unknown>[], message: string, headers: Headers | undefined, now: number): number | undefined {
  const retryInfo = details.find((d) => typeName(d) === 'RetryInfo');
  const fromDetail = parseDurationMs(retryInfo?.retryDelay);
  if (fromDetail !== undefined) return fromDetail;
  const sentence = /Please retry in (\d+(?:\.\d+)?)\s*(ms|s)\b/i.exec(message);
  if (sentence?.[1]) return Math.round(Number(sentence[1]) * (sentence[2]?.toLowerCase() === 'ms' ? 1 : 1000));
  const header = headers?.get('retry-after')?.trim();
  if (!header) return undefined;
  if (/^\d+(\.\d+)?$/.test(header)) return Math.round(Number(header) * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Every QuotaFailure violation, in the server's order. */
function violationsFrom(details: Record<string, unknown>[]): QuotaViolationInfo[] {
  const qf = details.find((d) => typeName(d) === 'QuotaFailure');
  const raw = Array.isArray(qf?.violations) ? (qf.violations.filter(isRecord) as QuotaViolation[]) : [];
  return raw.map((v) => {
    const info: QuotaViolationInfo = {};
    if (typeof v.quotaId === 'string') info.quotaId = v.quotaId;
    if (typeof v.quotaMetric === 'string') info.quotaMetric = v.quotaMetric;
    const limit = toInt(v.quotaValue);
    if (limit !== undefined) info.quotaLimit = limit;
    const model = isRecord(v.quotaDimensions) ? v.quotaDimensions.model : undefined;
    if (typeof model === 'string') info.model = model;
    return info;
  });
}

/** The violation a short RetryInfo is about: the first per-minute one, else the first. */
function mainViolation(violations: QuotaViolationInfo[]): QuotaViolationInfo | undefined {
  return violations.find((v) => v.quotaId !== undefined && /PerMinute/i.test(v.quotaId)) ?? violations[0];
}

function imageFrom(part: Part): ImageData | undefined {
  const d = part.inlineData;
  if (!isRecord(d) || typeof d.mimeType !== 'string' || !d.mimeType.toLowerCase().startsWith('image/')) return undefined;
  // A string straight from JSON, or bytes the streaming reader (body-reader.ts) already decoded.
  const raw: unknown = d.data;
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw instanceof Uint8Array ? raw : undefined;
  if (bytes === undefined) return undefined;
  // An image part that decodes to nothing is treated as absent, so the outcome becomes no_image.
  if (bytes.length === 0) return undefined;
  const image: ImageData = { data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), mimeType: d.mimeType };
  // A string from JSON, or the raw bytes the streaming reader kept aside (never a million-character string).
  const sig: unknown = part.thoughtSignature;
  if (typeof sig === 'string' && sig !== '') image.thoughtSignature = signatureBytes(sig);
  else if (sig instanceof Uint8Array && sig.length > 0) image.thoughtSignature = sig;
  return image;
}

function usageFrom(u: UsageMetadata | undefined): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const details = Array.isArray(u.candidatesTokensDetails) ? u.candidatesTokensDetails : [];
  const imageTokens = details.filter((d) => isRecord(d) && d.modality === 'IMAGE').reduce((sum, d) => sum + n(d.tokenCount), 0);
  const promptTokens = n(u.promptTokenCount);
  const candidatesTokens = n(u.candidatesTokenCount);
  const thoughtsTokens = n(u.thoughtsTokenCount);
  const totalTokens = typeof u.totalTokenCount === 'number' ? u.totalTokenCount : promptTokens + candidatesTokens + thoughtsTokens;
  return { promptTokens, candidatesTokens, thoughtsTokens, imageTokens, totalTokens };
}

function typeName(detail: Record<string, unknown>): string {
  const t = detail['@type'];
  return typeof t === 'string' ? t.slice(t.lastIndexOf('.') + 1) : '';
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function truncate(s: string): string {
  return s.length > MAX_RAW_MESSAGE ? `${s.slice(0, MAX_RAW_MESSAGE)}…` : s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
