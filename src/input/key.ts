// Stable job keys: the identity that resume and the manifest use across runs.
import { stableHash } from '../internal/hash.ts';
import type { Job } from '../types.ts';

/**
 * The user's `key` when given (with `~v<variant>` for variants after the first), else a 16-hex hash of the model,
 * prompt, aspectRatio, imageSize, thinking, seed, variant and reference images (sha256 for files, the URL for URLs).
 * Variant 0 hashes like "no variant", so raising `variants` later keeps the keys (and results) of variant 0.
 * Paths are not part of the hash: moving a reference image does not change the key, editing it does.
 */
export function jobKey(job: Omit<Job, 'key' | 'index'> & { key?: string }, model: string): string {
  const variant = job.variant ? job.variant : undefined;
  if (job.key !== undefined && job.key !== '') return variant ? `${job.key}~v${variant}` : job.key;
  return stableHash({
    model: job.model ?? model,
    prompt: job.prompt,
    aspectRatio: job.aspectRatio,
    imageSize: job.imageSize,
    thinking: job.thinking,
    seed: job.seed,
    variant,
    images: job.images?.map((i) => i.sha256 ?? i.path),
  });
}
