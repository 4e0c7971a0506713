// Streaming or Batch API? Batch costs half and has higher limits but answers within 24 h (usually much sooner),
// so it only pays when there is a lot of work and the caller can wait for it.
import { DEFAULTS } from '../defaults.ts';
import { OptionError } from '../errors.ts';
import { formatDuration } from '../internal/duration.ts';

export type RunMode = 'stream' | 'batch';

export interface ChooseModeOptions {
  /** 'auto' decides from the count and the deadline. @default 'auto' */
  mode?: RunMode | 'auto';
  /** auto: batch from this many jobs on. @default 500 */
  batchThreshold?: number;
  /** How long the caller can wait for the results. @default undefined (results wanted now: stream) */
  deadlineMs?: number;
  /** auto: the shortest deadline batch mode is trusted with (Google's turnaround target is 24 h). @default 24 h */
  minBatchDeadlineMs?: number;
}

export interface ModeChoice {
  mode: RunMode;
  /** One line for humans. */
  reason: string;
}

export const DEFAULT_BATCH_THRESHOLD = DEFAULTS.batchThreshold;
const DAY_MS = 24 * 3600 * 1000;

export function chooseMode(jobCount: number, options: ChooseModeOptions = {}): ModeChoice {
  const mode = options.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'stream' && mode !== 'batch') throw new OptionError('mode', mode, "'stream', 'batch' or 'auto'");
  if (mode !== 'auto') return { mode, reason: `--mode ${mode}` };
  const threshold = options.batchThreshold ?? DEFAULT_BATCH_THRESHOLD;
  if (!Number.isSafeInteger(threshold) || threshold < 1) throw new OptionError('batchThreshold', threshold, 'a whole number ≥ 1');
  const minDeadline = options.minBatchDeadlineMs ?? DAY_MS;
  if (jobCount < threshold) return { mode: 'stream', reason: `${jobCount} jobs, under the batch threshold of ${threshold}` };
  if (options.deadlineMs === undefined) return { mode: 'stream', reason: `${jobCount} jobs, but no --deadline allows the Batch API's turnaround` };
  if (options.deadlineMs < minDeadline) {
    return { mode: 'stream', reason: `deadline ${formatDuration(options.deadlineMs)} is shorter than the ${formatDuration(minDeadline)} batch turnaround` };
  }
  return { mode: 'batch', reason: `${jobCount} jobs ≥ ${threshold} and a ${formatDuration(options.deadlineMs)} deadline: Batch API at half price` };
}
