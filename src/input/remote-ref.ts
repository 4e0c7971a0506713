// Reference images given as http(s) URLs: downloaded with a size cap enforced while streaming, under the attempt's
// deadline, checked to be an image, and fetched once per run (keyed by URL, identified by the sha256 of the bytes,
// so changed content behind a URL changes the job key and the cache key).
import { createHash } from 'node:crypto';
import type { ErrorReason } from '../types.ts';
import { sniffImage } from './image-magic.ts';

/** Largest reference image accepted from a URL, in bytes (the whole request's inline limit is 20 MB). */
export const DEFAULT_MAX_REFERENCE_BYTES = 20 * 1024 * 1024;
/** Downloaded bytes kept for reuse within a run; past it the oldest go (and are downloaded again if needed). */
const MEMO_BYTES = 256 * 1024 * 1024;

export interface RemoteRefOptions {
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Stop reading (and fail the job) past this many bytes. @default 20 MB */
  maxBytes?: number;
  /** Deadline of one download, body included (the run's per-attempt timeout). @default none */
  timeoutMs?: number;
}

export interface Downloaded {
  data: Uint8Array;
  mimeType: string;
  sha256: string;
}

/** A download that failed. `reason` is what the job's outcome says: transient ones are retried by the retry policy. */
export class ReferenceFetchError extends Error {
  readonly url: string;
  readonly reason: ErrorReason;
  constructor(url: string, reason: ErrorReason, message: string, options?: { cause?: unknown }) {
    super(`reference image ${url}: ${message}`, options);
    this.name = 'ReferenceFetchError';
    this.url = url;
    this.reason = reason;
  }
}

/** One per run: each URL is downloaded once while its bytes stay in the memo. A failed download is not kept. */
export class RemoteRefs {
  readonly #o: RemoteRefOptions;
  readonly #memo = new Map<string, Promise<Downloaded>>();
  readonly #sizes = new Map<string, number>();
  #bytes = 0;

  constructor(options: RemoteRefOptions = {}) {
    const max = options.maxBytes ?? DEFAULT_MAX_REFERENCE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxReferenceBytes must be a whole number ≥ 1, got ${String(max)}`);
    this.#o = { ...options, maxBytes: max };
  }

  get(url: string, signal?: AbortSignal): Promise<Downloaded> {
    const hit = this.#memo.get(url);
    if (hit) return hit;
    const p = download(url, this.#o, signal).then(
      (d) => {
        this.#remember(url, d.data.length);
        return d;
      },
      (e: unknown) => {
        this.#memo.delete(url);
        throw e;
      },
    );
    this.#memo.set(url, p);
    return p;
  }

  #remember(url: string, size: number): void {
    this.#sizes.set(url, size);
    this.#bytes += size;
    for (const [old, n] of this.#sizes) {
      if (this.#bytes <= MEMO_BYTES || old === url) break;
      this.#sizes.delete(old);
      this.#memo.delete(old);
      this.#bytes -= n;
    }
  }
}

async function download(url: string, o: RemoteRefOptions, outer?: AbortSignal): Promise<Downloaded> {
  const max = o.maxBytes ?? DEFAULT_MAX_REFERENCE_BYTES;
  const signals = [outer, o.timeoutMs !== undefined ? AbortSignal.timeout(o.timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length ? AbortSignal.any(signals) : undefined;
  const fail = (e: unknown): never => {
    if (e instanceof ReferenceFetchError) throw e;
    if (outer?.aborted) throw outer.reason;
    if (signal?.aborted) throw new ReferenceFetchError(url, 'timeout', `no complete answer within ${o.timeoutMs} ms`, { cause: e });
    throw new ReferenceFetchError(url, 'network', (e as Error).message ?? String(e), { cause: e });
  };
  try {
    const res = await (o.fetch ?? fetch)(url, { signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      // 429 and 5xx are the image host's passing trouble; other statuses will not change on a retry.
      const transient = res.status === 429 || res.status === 408 || res.status >= 500;
      throw new ReferenceFetchError(url, transient ? 'server' : 'invalid_request', `HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > max) {
      await res.body?.cancel().catch(() => {});
      throw new ReferenceFetchError(url, 'invalid_request', `${declared} bytes, over the ${max}-byte limit (--max-reference-bytes)`);
    }
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== '' && !type.startsWith('image/') && type !== 'application/octet-stream') {
      await res.body?.cancel().catch(() => {});
      throw new ReferenceFetchError(url, 'invalid_request', `served as ${type}, not an image`);
    }
    const data = await readCapped(res, url, max);
    const mimeType = sniffImage(data);
    if (!mimeType) throw new ReferenceFetchError(url, 'invalid_request', 'is not a PNG, JPEG, WebP or HEIC image (by its first bytes)');
    return { data, mimeType, sha256: createHash('sha256').update(data).digest('hex') };
  } catch (e) {
    return fail(e);
  }
}

/** Reads the body into one buffer, giving up (and closing the connection) as soon as it passes `max`. */
async function readCapped(res: Response, url: string, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new ReferenceFetchError(url, 'invalid_request', `over the ${max}-byte limit (--max-reference-bytes); stopped reading`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
