// runToDisk(): generateImages() plus the output folder — atomic images, the manifest journal, resume, cache,
// summary.json and the HTML gallery. State is derived from what is on disk, never from memory.
import { isRunLevelError } from './errors.ts';
import { savedEvent } from './core/events.ts';
import { DEFAULTS } from './defaults.ts';
import { writeSummary } from './core/summary.ts';
import { systemClock } from './internal/clock.ts';
import type { JobsSource, RunToDiskOptions } from './options.ts';
import { generateImages, preflightArray } from './run.ts';
import { writeGallery } from './report/gallery.ts';
import { ImageCache } from './storage/cache.ts';
import { describeLines } from './report/format.ts';
import { MANIFEST_FILE } from './storage/manifest.ts';
import { OutputFolder } from './storage/output.ts';
import { loadResumeIndex } from './storage/resume.ts';
import type { ResumeIndex } from './storage/resume.ts';
import type { Job, JobInput, RunSummary } from './types.ts';

function skipRule(index: ResumeIndex, retryFailed: boolean) {
  return (job: Job): 'done' | undefined => {
    const prev = index.get(job.key);
    if (prev?.status === 'succeeded') return 'done';
    // --retry-failed: only jobs that failed before; jobs never attempted wait for a plain resume.
    if (retryFailed && prev?.status !== 'failed') return 'done';
    return undefined;
  };
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

/** The error is an abort that one of the caller's signals asked for (not some other failure during a stop). */
function abortedByCaller(err: unknown, o: RunToDiskOptions): boolean {
  return [o.signal, o.stopSignal].some((s) => s?.aborted && (err === s.reason || (err instanceof Error && err.name === 'AbortError')));
}

/** What stopped the run, for the summary ("done: 4/9 succeeded, stopped by SIGINT"): the abort reason's message. */
function stopReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error && r.name !== 'AbortError' && r.message) return r.message;
  if (typeof r === 'string' && r) return r;
  return 'a stop signal';
}

/**
 * Runs every job into `options.out` and returns the summary. Safe to call again on the same folder: jobs already
 * saved (and whose files still match their hashes) are skipped. Run-level failures are thrown after the summary
 * and the gallery are written, so the folder is always consistent.
 */
export async function runToDisk(jobs: JobsSource, options: RunToDiskOptions = {}): Promise<RunSummary> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const dir = options.out ?? DEFAULTS.out;
  // Preflight before the folder is touched: an array's models all answer models.get first, so a retired model leaves
  // no folder behind. A stream's models are checked by generateImages as they are read (the folder then records the stop).
  const checked = await preflightArray(jobs, options);
  const folder = await OutputFolder.open(dir, { fresh: options.fresh, fsync: options.fsync ?? DEFAULTS.fsync, now: () => new Date(clock.now()) });
  let stopError: unknown;
  let total = 0;
  let skipped = 0;
  // This input's jobs as they settle or are skipped: the summary counts them apart from the rest of the folder.
  // (A run stopped before it read a single job knows none of them: its summary then counts the whole folder.)
  const inputKeys = new Set<string>();
  try {
    // A stop during the (possibly long) verification of earlier images ends the run there: nothing would start anyway.
    const prepSignal = anySignal(options.signal, options.stopSignal);
    const index = await loadResumeIndex(folder.dir, { verify: options.verify ?? DEFAULTS.verify, signal: prepSignal });
    if (index.skippedLines > 0) {
      const where = describeLines(index.damagedLines, index.skippedLines);
      options.onEvent?.({ type: 'warning', message: `${MANIFEST_FILE}: ${index.skippedLines} damaged line(s) skipped (${where}); a job known only from such a line runs again`, at: clock.now() });
    }
    const cacheDir = options.cacheDir ?? options.env?.IMAGEBATCH_CACHE_DIR ?? process.env.IMAGEBATCH_CACHE_DIR;
    const cache = cacheDir === false ? undefined : await ImageCache.open(cacheDir).catch((err: unknown) => {
      options.onEvent?.({ type: 'warning', message: `cache not used: ${err instanceof Error ? err.message : String(err)}`, at: clock.now() });
      return undefined;
    });
    // generateImages() turns inputs into keyed jobs; here they are only counted, for the summary.
    async function* counted(): AsyncGenerator<JobInput> {
      for await (const input of jobs) {
        total++;
        yield input;
      }
    }
    const onEvent = options.onEvent;
    const results = generateImages(counted(), {
      ...options,
      ...(checked ? { preflight: false } : {}),
      cache,
      skip: skipRule(index, options.retryFailed ?? false),
      onEvent: (e) => {
        if (e.type === 'skipped') {
          skipped++;
          inputKeys.add(e.key);
        }
        onEvent?.(e);
      },
    });
    for await (const result of results) {
      // A request cut short by a hard stop is not an answer: leave it unrecorded so a resume runs it again.
      if (result.status === 'failed' && result.reason === 'cancelled') continue;
      const entry = await folder.save(result);
      inputKeys.add(entry.key);
      options.onResult?.(result);
      onEvent?.(savedEvent(result, entry, clock.now()));
      // imageSize silently ignored is a known field report: say so, the manifest line has the details.
      for (const f of entry.files) if (f.sizeMismatch) onEvent?.({ type: 'warning', message: `${f.path}: ${f.sizeMismatch}`, at: clock.now() });
    }
  } catch (err) {
    if (isRunLevelError(err)) stopError = err;
    else if (!abortedByCaller(err, options)) {
      await folder.close();
      throw err;
    }
    // Aborted by the caller's own signal: a stop like any other, so the folder still gets its summary.
  }
  let stoppedBy: string | undefined;
  if (stopError instanceof Error) stoppedBy = stopError.message;
  else if (options.stopSignal?.aborted) stoppedBy = stopReason(options.stopSignal);
  else if (options.signal?.aborted) stoppedBy = stopReason(options.signal);
  const summary = await writeSummary(folder.dir, { wallMs: clock.now() - started, total: Math.max(total, options.total ?? 0), skipped, startedAt: started, stoppedBy, ...(inputKeys.size > 0 ? { inputKeys } : {}) });
  await folder.close();
  if (options.gallery ?? DEFAULTS.gallery) await writeGallery(folder.dir);
  options.onEvent?.({ type: 'done', summary, at: clock.now() });
  if (stopError) throw stopError;
  return summary;
}
