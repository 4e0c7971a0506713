// One mapping from a saved Result to its progress event, for streaming and batch mode alike.
import type { ManifestEntry } from '../storage/manifest.ts';
import type { Result, RunEvent } from '../types.ts';

/**
 * The `succeeded` / `failed` event of a result whose manifest line `entry` was just written. The entry's status
 * wins: an answer whose output name was blocked (a directory) is saved as a failure.
 */
export function savedEvent(result: Result, entry: Pick<ManifestEntry, 'key' | 'index' | 'files' | 'status' | 'reason' | 'message'>, at: number): RunEvent {
  if (result.status === 'succeeded' && entry.status === 'succeeded') {
    // Two literals rather than a spread of the cost part: one of these is built for every image saved.
    const files = entry.files.map((f) => f.path);
    const cached = result.from === 'cache';
    return result.costUsd === undefined
      ? { type: 'succeeded', key: entry.key, index: entry.index, files, attempts: result.attempts, latencyMs: result.latencyMs, costUnknown: true, cached, at }
      : { type: 'succeeded', key: entry.key, index: entry.index, files, attempts: result.attempts, latencyMs: result.latencyMs, costUsd: result.costUsd, cached, at };
  }
  const reason = entry.reason ?? (result.status === 'failed' ? result.reason : 'server');
  const message = entry.message ?? (result.status === 'failed' ? result.message : '');
  return { type: 'failed', key: entry.key, index: entry.index, reason, message, attempts: result.attempts, at };
}
