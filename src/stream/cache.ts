// The image cache as a streaming run uses it: a hit answers a job before the scheduler (no request, no rate
// token), an answer from the API is stored. The cache saves money but is never worth a run: when it fails
// (unwritable folder, a blob gone between lookup and read) the run says so once and goes on without it.
import { CacheMismatchError } from '../storage/cache.ts';
import { signatureBytes } from '../internal/signature-text.ts';
import type { ImageCache } from '../storage/cache.ts';
import type { Job, Result } from '../types.ts';

export class RunCache {
  #ok: boolean;
  #mismatchWarned = false;

  /**
   * @param cache the cache, or undefined for none
   * @param keyOf the job's cache key (endpoint and full request)
   * @param warn one line for the run's `warning` event
   */
  constructor(
    private readonly cache: ImageCache | undefined,
    private readonly keyOf: (job: Job) => string,
    private readonly warn: (message: string) => void,
  ) {
    this.#ok = cache !== undefined;
  }

  /** The cached Result of `job` (from: 'cache', cost 0), or undefined on a miss or when the cache is off. */
  async lookup(job: Job, model: string): Promise<Result | undefined> {
    const cache = this.cache;
    if (!cache || !this.#ok) return undefined;
    try {
      const hit = await cache.get(this.keyOf(job));
      if (!hit) return undefined;
      const images = await Promise.all(
        hit.images.map(async (img) => ({
          mimeType: img.mimeType,
          data: await cache.read(img.sha256),
          bytes: img.bytes,
          sha256: img.sha256,
          ...(img.thoughtSignature !== undefined ? { thoughtSignature: signatureBytes(img.thoughtSignature) } : {}),
        })),
      );
      return { status: 'succeeded', job, model, attempts: 0, latencyMs: 0, images, text: hit.text, usage: hit.usage, costUsd: 0, from: 'cache', modelVersion: hit.modelVersion };
    } catch (err) {
      if (!(err instanceof CacheMismatchError)) {
        this.#failed(err);
        return undefined;
      }
      // A tampered or decayed blob: never serve it; forget the entry and pay for the job like a miss.
      await cache.drop(this.keyOf(job));
      if (!this.#mismatchWarned) {
        this.#mismatchWarned = true;
        this.warn(`${err.message}: entry dropped, the job is requested again (any further mismatch is handled the same way, without a warning)`);
      }
      return undefined;
    }
  }

  /** Stores a fresh answer from the API (cache hits and batch results are not stored again). */
  async store(result: Result): Promise<void> {
    if (!this.cache || !this.#ok || result.status !== 'succeeded' || result.from !== 'api') return;
    await this.cache
      .put(this.keyOf(result.job), { images: result.images, text: result.text, usage: result.usage, modelVersion: result.modelVersion })
      .catch((err: unknown) => this.#failed(err));
  }

  #failed(err: unknown): void {
    if (!this.#ok) return;
    this.#ok = false;
    this.warn(`cache disabled for this run: ${err instanceof Error ? err.message : String(err)}`);
  }
}
