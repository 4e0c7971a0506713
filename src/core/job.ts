// Job normalisation, shared by streaming and batch mode: what a caller handed us → a full Job with a stable key.
// Both modes key a job exactly the same way, so a folder can be filled by either and resumed by the other.
import { readFile } from 'node:fs/promises';
import { jobKey } from '../input/key.ts';
import { mimeTypeForPath } from '../input/refs.ts';
import { sha256Hex } from '../internal/hash.ts';
import type { JobsSource } from '../options.ts';
import type { RemoteRefs } from '../input/remote-ref.ts';
import type { Job, JobInput } from '../types.ts';

/** Turns one input into a full Job: its index (position unless given) and its key (given, or hashed from the request). */
export function toJob(input: JobInput, index: number, model: string): Job {
  const partial = typeof input === 'string' ? { prompt: input } : input;
  const job: Job = { ...partial, index: partial.index ?? index, key: '' };
  job.key = partial.key ?? jobKey(job, job.model ?? model);
  return job;
}

const isUrl = (p: string) => /^https?:\/\//i.test(p);

/**
 * Library callers may name reference files without their hash, but the job key and the cache key need it: editing
 * the file must change both (the input reader fills it for prompt files). An unreadable file is left as it is; its
 * attempt then fails with a message naming it.
 */
export async function withReferenceHashes(input: JobInput, remote?: RemoteRefs): Promise<JobInput> {
  const hashable = (r: { path: string; sha256?: string }) => r.sha256 === undefined && (remote !== undefined || !isUrl(r.path));
  if (typeof input === 'string' || !input.images?.some(hashable)) return input;
  const images = await Promise.all(
    input.images.map(async (ref) => {
      if (!hashable(ref)) return ref;
      if (isUrl(ref.path)) {
        // Downloaded once per run (the attempt reuses the bytes); a failure now is retried by the attempt.
        const d = await remote!.get(ref.path).catch(() => undefined);
        return d ? { ...ref, sha256: d.sha256, mimeType: d.mimeType } : ref;
      }
      try {
        return { ...ref, sha256: sha256Hex(await readFile(ref.path)), mimeType: ref.mimeType ?? mimeTypeForPath(ref.path) };
      } catch {
        return ref;
      }
    }),
  );
  return { ...input, images };
}

/** Every input as a keyed Job, read lazily, in input order. */
export async function* normaliseJobs(jobs: JobsSource, model: string, remote?: RemoteRefs): AsyncGenerator<Job> {
  let i = 0;
  for await (const input of jobs) yield toJob(rekeyed(input, await withReferenceHashes(input, remote), model), i++, model);
}

/**
 * A job read from a prompt file arrives keyed by its reference URLs (the reader does not download). Once their
 * content hashes are known, a key that is exactly that URL-based hash is computed again from the content, so changed
 * content behind a URL is a new job and a new cache entry. A key the user chose is kept.
 */
function rekeyed(before: JobInput, after: JobInput, model: string): JobInput {
  if (before === after || typeof before === 'string' || typeof after === 'string' || before.key === undefined) return after;
  const computed = jobKey({ ...before, key: undefined }, before.model ?? model);
  if (before.key !== computed) return after;
  const { key: _drop, ...rest } = after;
  return rest;
}
