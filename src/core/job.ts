// Job normalisation, shared by streaming and batch mode: what a caller handed us → a full Job with a stable key.
// Both modes key a job exactly the same way, so a folder can be filled by either and resumed by the other.
import { readFile } from 'node:fs/promises';
import { jobKey } from '../input/key.ts';
import { mimeTypeForPath } from '../input/refs.ts';
import { sha256Hex } from '../internal/hash.ts';
import type { JobsSource } from '../options.ts';
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
export async function withReferenceHashes(input: JobInput): Promise<JobInput> {
  if (typeof input === 'string' || !input.images?.some((r) => r.sha256 === undefined && !isUrl(r.path))) return input;
  const images = await Promise.all(
    input.images.map(async (ref) => {
      if (ref.sha256 !== undefined || isUrl(ref.path)) return ref;
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
export async function* normaliseJobs(jobs: JobsSource, model: string): AsyncGenerator<Job> {
  let i = 0;
  for await (const input of jobs) yield toJob(await withReferenceHashes(input), i++, model);
}
