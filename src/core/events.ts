// One mapping from a saved Result to its progress event, for streaming and batch mode alike.
import type { ManifestEntry } from '../storage/manifest.ts';
import type { Result, RunEvent } from '../types.ts';

/**
 * The `succeeded` / `failed` event of a result whose manifest line `entry` was just written. The entry's status
 * wins: an answer whose output name was blocked (a directory) is saved as a failure.
 */
export function savedEvent(result: Result, entry: Pick<ManifestEntry, 'key' | 'index' | 'files' | 'status' | 'reason' | 'message'>, at: number): RunEvent {
  if (result.status === 'succeeded' && entry.status === 'succeeded') {
    const cost = result.costUsd === undefined ? { costUnknown: true as const } : { costUsd: result.costUsd };
    return { type: 'succeeded', key: entry.key, index: entry.index, files: entry.files.map((f) => f.path), attempts: result.attempts, latencyMs: result.latencyMs, ...cost, cached: result.from === 'cache', at };
  }
  const reason = entry.reason ?? (result.status === 'failed' ? result.reason : 'server');
  const message = entry.message ?? (result.status === 'failed' ? result.message : '');
  return { type: 'failed', key: entry.key, index: entry.index, reason, message, attempts: result.attempts, at };
}
