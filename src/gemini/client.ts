// Our own small REST client over fetch: the SDK hides RetryInfo, QuotaFailure and headers.
// It makes exactly one attempt per call (the single retry policy lives in scheduler/retry.ts)
// and the key travels only in the x-goog-api-key header, never in a URL, message or result.
import { VERSION } from '../internal/version.ts';
import { ApiError, AuthError, OptionError } from '../errors.ts';
import { sha256Hex } from '../internal/hash.ts';
import type { ErrorOutcome, Outcome } from '../types.ts';
import { Attempt, describeNetworkError } from './attempt.ts';
import type { Backend } from './backend.ts';
import { BodyParseError, InlineDataReader } from './body-reader.ts';
import { modelPath } from './names.ts';
import { errorFromOutcome, outcomeFromError, outcomeFromResponse } from './outcome.ts';
import { createRedactor, defaultRedactor } from '../internal/redact.ts';
import type { Redactor } from '../internal/redact.ts';
import type { GenerateContentRequest } from './wire.ts';
import { checkNumber } from '../internal/check.ts';

export const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
const USER_AGENT = `imagebatch/${VERSION} gl-node/${process.version}`;
const MAX_REDIRECTS = 5;
// setTimeout fires at once for delays above 2^31-1 ms, which would turn a huge timeout into none.
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * The base URL a client with these options talks to, normalised (no trailing slash): `baseUrl`, else env
 * GEMINI_BASE_URL, else GOOGLE_GEMINI_BASE_URL, else Google's. Throws OptionError unless it is an http(s) URL
 * without query, fragment or credentials. It also names the answer cache's namespace: answers from one endpoint
 * are never served for another.
 */
export function resolveBaseUrl(baseUrl: string | undefined, env: Record<string, string | undefined> = process.env, redact: Redactor = defaultRedactor): string {
  return checkBaseUrl(firstSet(baseUrl, env.GEMINI_BASE_URL, env.GOOGLE_GEMINI_BASE_URL) ?? DEFAULT_BASE_URL, redact);
}

/** `raw` normalised (no trailing slash); OptionError unless it is an http(s) URL without query, fragment or credentials. */
export function checkBaseUrl(raw: string, redact: Redactor = defaultRedactor): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new OptionError('baseUrl', redact(raw), 'an http(s) URL without query, fragment or credentials');
  }
  return parsed.toString().replace(/\/+$/, '');
}

export interface GeminiClientOptions {
  /** @default env GEMINI_API_KEY, then env GOOGLE_API_KEY; none → AuthError */
  apiKey?: string;
  /** @default env GEMINI_BASE_URL, then env GOOGLE_GEMINI_BASE_URL, then https://generativelanguage.googleapis.com */
  baseUrl?: string;
  /** @default 'v1beta' */
  apiVersion?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per attempt: connect, headers AND the whole body (raw(): headers, then the gap between body chunks). @default 120_000 */
  timeoutMs?: number;
  /** Extra headers on every request (the key header cannot be overridden). @default {} */
  headers?: Record<string, string>;
  /** Where keys and base URLs are looked up. @default process.env */
  env?: Record<string, string | undefined>;
  /**
   * Another service than the Gemini Developer API (Vertex AI: `vertexBackend()`): its host, paths and credentials
   * replace apiKey, baseUrl and apiVersion. Files and Batches calls are not offered there. @default the Developer API
   */
  backend?: Backend;
}

export interface CallOptions {
  /** Caller cancellation. @default none */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout. @default the client's timeoutMs */
  timeoutMs?: number;
}

export interface JsonCallOptions extends CallOptions {
  /** Sent as JSON. @default no body */
  body?: unknown;
  /** Appended to the URL; undefined values are skipped. @default {} */
  query?: Record<string, string | number | undefined>;
  /** @default {} */
  headers?: Record<string, string>;
}

export interface RawCallOptions extends CallOptions {
  /** @default no body */
  body?: BodyInit;
  /** @default {} */
  headers?: Record<string, string>;
  /** @default {} */
  query?: Record<string, string>;
}

type Exchange<T> = { ok: true; value: T } | { ok: false; failure: ErrorOutcome };

export class GeminiClient {
  readonly baseUrl: string;
  /**
   * A one-way fingerprint of the API key (sha256 hex; of the endpoint for a backend without a key, e.g. Vertex's
   * project and location), to tell quotas apart without holding a key (the shared quota's default group).
   */
  readonly keyHash: string;
  readonly apiVersion: string;
  readonly timeoutMs: number;
  /** Which service this client talks to: 'gemini' or 'vertex'. */
  readonly backendKind: 'gemini' | 'vertex';
  /** Names the endpoint (service, host, project, location) for cache keys and manifests; never a credential. */
  readonly endpointId: string;
  readonly #backend: Backend | undefined;
  readonly #apiKey: string;
  readonly #origin: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;
  readonly #redact: Redactor;

  constructor(options: GeminiClientOptions = {}) {
    const env = options.env ?? process.env;
    const backend = options.backend;
    this.#backend = backend;
    this.backendKind = backend?.kind ?? 'gemini';
    if (backend) {
      this.#apiKey = '';
      this.#redact = (text) => createRedactor(backend.secrets())(text);
      this.baseUrl = backend.baseUrl;
      this.#origin = new URL(backend.baseUrl).origin;
      this.apiVersion = backend.apiVersion;
      this.endpointId = backend.id;
      // No key here: the project (named by the endpoint) owns the quota, so it stands in for the key.
      this.keyHash = sha256Hex(`imagebatch endpoint\n${backend.id}`);
      this.timeoutMs = checkTimeout('timeoutMs', options.timeoutMs ?? 120_000);
      this.#fetch = checkFetch(options.fetch ?? globalThis.fetch);
      this.#headers = checkHeaders(options.headers ?? {});
      return;
    }
    const apiKey = firstSet(options.apiKey, env.GEMINI_API_KEY, env.GOOGLE_API_KEY);
    if (apiKey === undefined) throw new AuthError('no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) or pass apiKey');
    // Never echo the value: a wrong paste may still be a real key.
    if (!/^[\x21-\x7e]+$/.test(apiKey)) throw new AuthError('the API key contains spaces or non-ASCII characters');
    this.#apiKey = apiKey;
    this.keyHash = sha256Hex(`imagebatch key\n${apiKey}`);
    this.#redact = createRedactor([apiKey]);

    this.baseUrl = resolveBaseUrl(options.baseUrl, env, this.#redact);
    this.#origin = new URL(this.baseUrl).origin;
    this.endpointId = `gemini ${this.baseUrl}`;

    const apiVersion = options.apiVersion ?? 'v1beta';
    if (typeof apiVersion !== 'string' || !/^[A-Za-z0-9._-]*$/.test(apiVersion)) {
      throw new OptionError('apiVersion', apiVersion, "a version such as 'v1beta' (or '' for none)");
    }
    this.apiVersion = apiVersion;
    this.timeoutMs = checkTimeout('timeoutMs', options.timeoutMs ?? 120_000);
    this.#fetch = checkFetch(options.fetch ?? globalThis.fetch);
    this.#headers = checkHeaders(options.headers ?? {});
  }

  /** The path models.get reads for `model`: 'models/{id}' on the Developer API, the publisher model on Vertex. */
  modelResourcePath(model: string): string {
    return this.#backend ? this.#backend.modelResourcePath(model) : modelPath(model);
  }

  /** Replaces the key (and anything key-shaped) in text, for callers that build their own messages. */
  redact(text: string): string {
    return this.#redact(text);
  }

  /**
   * One attempt. Never throws for HTTP, network or timeout problems: returns an Outcome. A 200 body is read as a
   * stream with each image's base64 decoded as it arrives (see body-reader.ts), so no image is ever held as text.
   */
  async generateContent(model: string, request: GenerateContentRequest, options: CallOptions = {}): Promise<Outcome> {
    const path = this.#backend ? this.#backend.modelPath(model) : modelPath(model);
    const url = this.#url(`${path}:generateContent`);
    const payload = JSON.stringify(this.#backend?.kind === 'vertex' ? withUserRole(request) : request);
    let r = await this.#exchange('POST', url, payload, { 'content-type': 'application/json' }, options, readAnswer);
    // An expired or revoked token: one refresh (shared by every request that saw the same token) and one more try.
    if (r.ok && r.value.status === 401 && this.#backend?.invalidate?.(r.value.auth)) {
      r = await this.#exchange('POST', url, payload, { 'content-type': 'application/json' }, options, readAnswer);
    }
    if (!r.ok) return this.#explained(r.failure);
    const { status, headers, body } = r.value;
    if (body.kind === 'text') return this.#explained(outcomeFromError(status, body.text, headers, { redact: this.#redact }));
    if (body.kind === 'unparsable') {
      return { kind: 'error', reason: 'network', httpStatus: status, message: `unparsable ${status} body (${body.bytes} bytes): truncated or not JSON` };
    }
    return outcomeFromResponse(body.json, { redact: this.#redact });
  }

  /** Raw JSON call for Files/Batches. Non-2xx → ApiError (or AuthError/PermissionError); caller abort → the signal's reason. */
  async requestJson<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: JsonCallOptions = {},
  ): Promise<{ status: number; headers: Headers; body: T }> {
    const url = this.#url(path.replace(/^\/+/, ''), options.query);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const r = await this.#exchange(method, url, payload, { 'content-type': 'application/json', ...options.headers }, options, (res) => res.text());
    if (!r.ok) throw this.#thrown(r.failure, options.signal);
    const { status, headers, body: text } = r.value;
    if (status < 200 || status > 299) throw errorFromOutcome(outcomeFromError(status, text, headers, { redact: this.#redact }));
    if (text.trim() === '') return { status, headers, body: {} as T };
    try {
      return { status, headers, body: JSON.parse(text) as T };
    } catch {
      throw new ApiError(status, `unparsable JSON answer from ${method} ${path}`, { reason: 'network' });
    }
  }

  /**
   * Raw fetch for uploads/downloads with the key header added. An absolute URL keeps only its path and
   * query, re-based on baseUrl's origin (as the SDK does); a relative path is taken from baseUrl with no
   * API version. Non-2xx answers are returned, not thrown (see ensureOk). The timeout covers the wait for
   * headers and then each gap between body chunks, so long downloads live while bytes keep coming.
   */
  async raw(method: string, pathOrUrl: string, init: RawCallOptions = {}): Promise<Response> {
    const url = this.#rawUrl(pathOrUrl, init.query);
    const attempt = new Attempt(checkTimeout('timeoutMs', init.timeoutMs ?? this.timeoutMs), init.signal);
    let res: Response;
    try {
      res = await attempt.race((async () => this.#send(method, url, init.body, init.headers ?? {}, attempt, await this.#authorize(attempt), false))());
    } catch (err) {
      attempt.finish();
      throw this.#thrown(this.#failure(attempt, err), init.signal);
    }
    if (!res.body || res.status === 204 || res.status === 205 || res.status === 304) {
      attempt.finish();
      return res;
    }
    // The idle deadline runs only while we wait for the server: pull() is called when the consumer wants
    // more, so a slow consumer (fsync per image) never times out a healthy download.
    attempt.disarm();
    const reader = res.body.getReader();
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          attempt.arm(true);
          const { done, value } = await attempt.race(reader.read());
          attempt.disarm();
          if (done) {
            attempt.finish();
            controller.close();
            return;
          }
          controller.enqueue(value);
        } catch (err) {
          const error = this.#thrown(this.#failure(attempt, err), init.signal);
          attempt.finish();
          reader.cancel(error).catch(() => {});
          controller.error(error);
        }
      },
      cancel: async (reason) => {
        attempt.finish();
        await reader.cancel(reason).catch(() => {});
      },
    });
    return new Response(stream, { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  /** Throws the typed error for a non-2xx raw() answer (reading its body); returns the response otherwise. */
  async ensureOk(res: Response): Promise<Response> {
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    throw errorFromOutcome(outcomeFromError(res.status, text, res.headers, { redact: this.#redact }));
  }

  async #exchange<T>(
    method: string,
    url: string,
    body: string | undefined,
    headers: Record<string, string>,
    options: CallOptions,
    read: (res: Response) => Promise<T>,
  ): Promise<Exchange<{ status: number; headers: Headers; body: T; auth: Record<string, string> }>> {
    const attempt = new Attempt(checkTimeout('timeoutMs', options.timeoutMs ?? this.timeoutMs), options.signal);
    try {
      const value = await attempt.race(
        (async () => {
          // Inside the deadline: fetching a token (metadata server, token endpoint) is part of the attempt.
          const auth = await this.#authorize(attempt);
          const res = await this.#send(method, url, body, headers, attempt, auth);
          // Same signal as the request: a body that trickles past the deadline is cut here.
          return { status: res.status, headers: res.headers, body: await read(res), auth };
        })(),
      );
      return { ok: true, value };
    } catch (err) {
      return { ok: false, failure: this.#failure(attempt, err) };
    } finally {
      attempt.finish();
    }
  }

  /** fetch with our headers, following GET redirects by hand so the key never goes to another origin. */
  /** The credential headers of one call: the API key, or the backend's token or Express key. */
  async #authorize(attempt: Attempt): Promise<Record<string, string>> {
    return this.#backend ? this.#backend.authorize(attempt.signal) : { 'x-goog-api-key': this.#apiKey };
  }

  #explained(outcome: Outcome): Outcome {
    return outcome.kind === 'error' && this.#backend?.explain ? this.#backend.explain(outcome) : outcome;
  }

  async #send(method: string, url: string, body: BodyInit | undefined, extra: Record<string, string>, attempt: Attempt, auth: Record<string, string>, whole = true): Promise<Response> {
    let current = url;
    for (let hop = 0; ; hop++) {
      const headers = new Headers({ 'user-agent': USER_AGENT, 'x-goog-api-client': USER_AGENT });
      // Lets the server drop work we stopped waiting for. Not on raw(): there the deadline is per chunk, not total.
      if (whole) headers.set('x-server-timeout', String(Math.ceil(attempt.timeoutMs / 1000)));
      for (const [k, v] of Object.entries(this.#headers)) headers.set(k, v);
      for (const [k, v] of Object.entries(extra)) headers.set(k, v);
      const home = new URL(current).origin === this.#origin;
      for (const [k, v] of Object.entries(auth)) {
        if (home) headers.set(k, v);
        else headers.delete(k);
      }
      const res = await this.#fetch(current, { method, headers, body, signal: attempt.signal, redirect: 'manual' });
      const location = res.headers.get('location');
      const redirect = res.status >= 300 && res.status < 400 && location && (method === 'GET' || method === 'HEAD');
      if (!redirect || hop >= MAX_REDIRECTS) return res;
      await res.body?.cancel().catch(() => {});
      current = new URL(location, current).toString();
    }
  }

  #failure(attempt: Attempt, err: unknown): ErrorOutcome {
    if (attempt.cause === 'cancelled') return { kind: 'error', reason: 'cancelled', message: 'cancelled by the caller' };
    // Credentials that cannot be had (no ADC, an unusable key file) stop the run like a bad key.
    if (err instanceof AuthError) return { kind: 'error', reason: 'auth', message: this.#redact(err.message) };
    if (attempt.cause === 'timeout') {
      return { kind: 'error', reason: 'timeout', message: `no complete answer within ${attempt.timeoutMs} ms` };
    }
    return { kind: 'error', reason: 'network', message: this.#redact(describeNetworkError(err)) };
  }

  /** Caller abort surfaces as the caller's own reason (the platform convention); the rest as ApiError. */
  #thrown(failure: ErrorOutcome, signal: AbortSignal | undefined): unknown {
    if (failure.reason === 'cancelled') return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
    return errorFromOutcome(failure);
  }

  #url(path: string, query?: Record<string, string | number | undefined>): string {
    const version = this.apiVersion ? `/${this.apiVersion}` : '';
    return withQuery(`${this.baseUrl}${version}/${path}`, query);
  }

  #rawUrl(pathOrUrl: string, query?: Record<string, string>): string {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      const u = new URL(pathOrUrl);
      return withQuery(`${this.#origin}${u.pathname.replace(/\/+$/, '')}${u.search}`, query);
    }
    return withQuery(`${this.baseUrl}/${pathOrUrl.replace(/^\/+/, '')}`, query);
  }
}

type Answer = { kind: 'json'; json: unknown } | { kind: 'text'; text: string } | { kind: 'unparsable'; bytes: number };

/** A non-2xx body is small error JSON, kept as text; a 2xx body streams through the image-decoding reader. */
async function readAnswer(res: Response): Promise<Answer> {
  if (res.status < 200 || res.status > 299 || !res.body) return { kind: 'text', text: await res.text() };
  const parser = new InlineDataReader();
  const stream = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await stream.read();
      if (done) break;
      parser.push(value);
    }
    return { kind: 'json', json: parser.end() };
  } catch (e) {
    // A body we stop reading is cancelled, so the connection is not left half-read.
    stream.cancel().catch(() => {});
    if (e instanceof BodyParseError) return { kind: 'unparsable', bytes: e.bytesRead };
    throw e;
  }
}

/** Vertex requires a role on every content; the Developer API assumes 'user'. */
function withUserRole(request: GenerateContentRequest): GenerateContentRequest {
  if (request.contents.every((c) => c.role !== undefined)) return request;
  return { ...request, contents: request.contents.map((c) => (c.role === undefined ? { ...c, role: 'user' } : c)) };
}

function checkFetch(f: unknown): typeof fetch {
  if (typeof f !== 'function') throw new OptionError('fetch', f, 'a fetch function');
  return f as typeof fetch;
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string')) {
    throw new OptionError('headers', headers, 'an object of string header values');
  }
  return { ...(headers as Record<string, string>) };
}

function withQuery(url: string, query?: Record<string, string | number | undefined>): string {
  if (!query) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.append(k, String(v));
  return u.toString();
}

function firstSet(...values: (string | undefined)[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v.trim() !== '') return v.trim();
  return undefined;
}

function checkTimeout(option: string, value: number): number {
  return checkNumber(option, value, { above: 0, max: MAX_TIMEOUT_MS, unit: 'milliseconds' });
}
