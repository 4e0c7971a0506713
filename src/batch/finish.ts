// The end of a batch run: unanswered jobs through streaming mode (finishWithStream, handed in as
// options.streamWith), then summary.json and index.html through the same writer as streaming mode.
import { DEFAULTS } from '../defaults.ts';
import { writeSummary } from '../core/summary.ts';
import { OptionError } from '../errors.ts';
import type { GeminiClient } from '../gemini/client.ts';
import { writeGallery } from '../report/gallery.ts';
import { loadResumeIndex } from '../storage/resume.ts';
import type { Job, RunSummary } from '../types.ts';
import type { CollectOptions } from './options.ts';
import { clockOf } from './options.ts';
import { retryableInStream } from './results.ts';
import { readRecordJobs, readState } from './state.ts';

/**
 * Jobs of settled batches whose latest manifest line is missing or a failure other than a safety block go through
 * options.streamWith (streaming mode: runToDisk) into the same folder. Idempotent: it looks only at the manifest.
 */
export async function streamLeftovers(dir: string, client: GeminiClient, options: CollectOptions): Promise<number> {
  const { signal } = options;
  const state = await readState(dir);
  const index = await loadResumeIndex(dir, { verify: options.verify ?? DEFAULTS.verify, signal });
  const jobs = new Map<string, Job>();
  let model: string | undefined;
  for (const r of state.batches) {
    if (r.phase !== 'settled' || (options.name && r.name !== options.name)) continue;
    const rj = await readRecordJobs(dir, r, signal);
    for (const key of rj.order) {
      const prev = index.get(key);
      if (!retryableInStream(prev && { status: prev.status, reason: prev.reason })) continue;
      const job = rj.byKey.get(key)!;
      // The batch's model is explicit on every streamed job, so one run serves several models.
      jobs.set(key, { ...job, model: job.model ?? r.model });
      model ??= r.model;
    }
  }
  if (jobs.size === 0) return 0;
  const run = options.streamWith;
  if (!run) throw new OptionError('streamWith', run, 'the streaming run (runToDisk) that finishWithStream hands unanswered jobs to');
  options.onBatchEvent?.({ type: 'batch_streaming', jobs: jobs.size, at: clockOf(options).now() });
  const s = options.stream ?? {};
  await run(
    [...jobs.values()].sort((a, b) => a.index - b.index),
    {
      cacheDir: false,
      ...s,
      out: dir,
      // Never wipe or narrow the folder the batches just filled.
      fresh: false,
      retryFailed: false,
      apiKey: s.apiKey ?? options.apiKey,
      // The batch client's URL, so streaming talks to the same server the batches did.
      baseUrl: s.baseUrl ?? client.baseUrl,
      fetch: s.fetch ?? options.fetch,
      env: s.env ?? options.env,
      model: s.model ?? model,
      signal: s.signal ?? signal,
      clock: s.clock ?? options.clock,
      gallery: false,
      onEvent: s.onEvent ?? options.onEvent,
    },
  );
  return jobs.size;
}

/** summary.json (and index.html) for the folder; total counts the latest input even if parts are still running. */
export async function writeFolderSummary(dir: string, options: CollectOptions, stoppedBy?: string): Promise<RunSummary> {
  const state = await readState(dir);
  const started = state.startedAt ? Date.parse(state.startedAt) : NaN;
  const wallMs = Number.isFinite(started) ? Math.max(0, clockOf(options).now() - started) : 0;
  const summary = await writeSummary(dir, {
    wallMs,
    skipped: state.skippedAtSubmit ?? 0,
    ...(Number.isFinite(started) ? { startedAt: started } : {}),
    totalAtLeast: state.inputJobs ?? 0,
    stoppedBy,
    signal: options.signal,
  });
  if (options.gallery ?? DEFAULTS.gallery) await writeGallery(dir, { signal: options.signal });
  return summary;
}
