// One mapping from a saved Result to its progress event, for streaming and batch mode alike.
import type { ManifestEntry } from '../storage/manifest.ts';
import type { Result, RunEvent } from '../types.ts';

/** The `succeeded` / `failed` event of a result whose manifest line `entry` was just written. */
export function savedEvent(result: Result, entry: Pick<ManifestEntry, 'key' | 'index' | 'files'>, at: number): RunEvent {
  if (result.status === 'succeeded') {
    return { type: 'succeeded', key: entry.key, index: entry.index, files: entry.files.map((f) => f.path), attempts: result.attempts, latencyMs: result.latencyMs, costUsd: result.costUsd, cached: result.from === 'cache', at };
  }
  return { type: 'failed', key: entry.key, index: entry.index, reason: result.reason, message: result.message, attempts: result.attempts, at };
}
