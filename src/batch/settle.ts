// A batch that reached a terminal state → its results in the folder. The results file is streamed line by line
// (never whole in memory) and written through the same OutputFolder as streaming mode. Keys already in the
// manifest are skipped, so a fetch cut off halfway resumes without writing any key twice.
import { DEFAULTS } from '../defaults.ts';
import { downloadFile } from '../gemini/files.ts';
import type { GeminiClient } from '../gemini/client.ts';
import type { BatchOperation } from '../gemini/wire.ts';
import { readInlineDataLines } from '../gemini/body-lines.ts';
import { savedEvent } from '../core/events.ts';
import { unansweredResult } from '../core/result.ts';
import { OutputFolder } from '../storage/output.ts';
import { loadResumeIndex } from '../storage/resume.ts';
import type { Job, Result } from '../types.ts';
import type { SpendMeter } from './budget.ts';
import type { CollectOptions } from './options.ts';
import { clockOf, writeBufferBytesOf, writeConcurrencyOf } from './options.ts';
import { cleanupRemote, stateOf } from './remote.ts';
import type { BatchAnswer } from './results.ts';
import { resultOfAnswer } from './results.ts';
import type { BatchRecord } from './state.ts';
import { WriteWindow } from './write-window.ts';
import { patchRecord, readRecordJobs } from './state.ts';

export interface SettleContext {
  dir: string;
  client: GeminiClient;
  options: CollectOptions;
  spend?: SpendMeter;
}

export interface SettleCounts {
  saved: number;
  skipped: number;
}

/** Writes a terminal batch's outcome into the folder and marks its record settled. */
export async function settleRecord(ctx: SettleContext, record: BatchRecord, op: BatchOperation): Promise<SettleCounts> {
  const state = stateOf(op);
  const { options } = ctx;
  let counts: SettleCounts;
  if (state === 'BATCH_STATE_SUCCEEDED') {
    counts = await saveAnswers(ctx, record, op);
  } else if (options.finishWithStream) {
    counts = { saved: 0, skipped: 0 }; // its unanswered jobs go to streaming mode instead
  } else {
    const reason = state === 'BATCH_STATE_EXPIRED' ? 'batch_expired' : 'batch_failed';
    const why = record.error ?? op.error?.message;
    const message = `the batch job ended ${state.replace('BATCH_STATE_', '')} before answering${why ? `: ${ctx.client.redact(why)}` : ''}`;
    counts = await writeEach(ctx, record, async function* (jobs) {
      for (const key of jobs.order) yield { job: jobs.byKey.get(key)!, make: (job: Job) => unansweredResult(job, record.model, reason, message) };
    });
  }
  const now = clockOf(options).now();
  const settled = (await patchRecord(ctx.dir, record.id, { phase: 'settled', settledAt: new Date(now).toISOString(), state })) ?? record;
  options.onBatchEvent?.({ type: 'batch_collected', name: record.name ?? record.displayName, state, saved: counts.saved, skipped: counts.skipped, at: now });
  if (options.cleanup) await cleanupRemote(ctx.dir, ctx.client, settled, options);
  return counts;
}

interface Pending {
  job: Job;
  make: (job: Job) => Result;
}

async function saveAnswers(ctx: SettleContext, record: BatchRecord, op: BatchOperation): Promise<SettleCounts> {
  const latencyMs = Math.max(0, Date.parse(op.metadata?.endTime ?? '') - Date.parse(op.metadata?.createTime ?? '')) || 0;
  const redact = (s: string) => ctx.client.redact(s);
  const finish = !ctx.options.finishWithStream;
  return writeEach(ctx, record, async function* (jobs) {
    const answered = new Set<string>();
    let position = 0;
    for await (const answer of answersOf(ctx, record, op)) {
      // Output keeps input order, so a line without a key (an unparsable input line) is placed by position.
      const key = typeof answer.key === 'string' ? answer.key : jobs.order[position];
      position++;
      const job = key === undefined ? undefined : jobs.byKey.get(key);
      if (!job || answered.has(job.key)) continue;
      answered.add(job.key);
      yield { job, make: (j) => resultOfAnswer(j, record.model, answer, latencyMs, redact, ctx.options.pricePerImageUsd) };
    }
    if (!finish) return;
    for (const key of jobs.order) {
      if (!answered.has(key)) {
        yield { job: jobs.byKey.get(key)!, make: (j) => unansweredResult(j, record.model, 'batch_failed', 'the batch results have no answer for this request') };
      }
    }
  });
}

/** Inline answers from the operation, or the results file streamed line by line. */
async function* answersOf(ctx: SettleContext, record: BatchRecord, op: BatchOperation): AsyncGenerator<BatchAnswer> {
  const inline = op.metadata?.output?.inlinedResponses?.inlinedResponses ?? op.response?.inlinedResponses?.inlinedResponses;
  if (inline) {
    for (const r of inline) yield { key: r.metadata?.key, response: r.response, error: r.error };
    return;
  }
  const file = op.metadata?.output?.responsesFile ?? op.response?.responsesFile ?? record.outputFile;
  if (!file) throw new Error(`batch ${op.name} succeeded without inline responses or a responses file`);
  const { signal } = ctx.options;
  const body = await downloadFile(ctx.client, file, { signal });
  // Read like a generateContent answer: each image decoded as it streams in, never a multi-MB line of text.
  for await (const l of readInlineDataLines(body)) {
    signal?.throwIfAborted();
    // One damaged line must not cost the other answers; its job stays unanswered.
    if (l.ok) yield l.value as BatchAnswer;
  }
}

/**
 * Saves the results `items` yields for jobs not already recorded since this batch was submitted (or saved
 * successfully at any time), a few at once. Each save is atomic (image, then manifest line), so an abort
 * between saves leaves nothing half written and the next call picks up exactly where this one stopped.
 */
async function writeEach(
  ctx: SettleContext,
  record: BatchRecord,
  items: (jobs: Awaited<ReturnType<typeof readRecordJobs>>) => AsyncIterable<Pending>,
): Promise<SettleCounts> {
  const { dir, options } = ctx;
  const signal = options.signal;
  const jobs = await readRecordJobs(dir, record, signal);
  const index = await loadResumeIndex(dir, { verify: options.verify ?? DEFAULTS.verify, signal });
  const since = Date.parse(record.submittedAt);
  const done = (key: string) => {
    const e = index.get(key);
    return e !== undefined && (e.status === 'succeeded' || e.finishedAtMs >= since);
  };
  const clock = clockOf(options);
  const folder = await OutputFolder.open(dir, { fsync: options.fsync ?? DEFAULTS.fsync, now: () => new Date(clock.now()) });
  const window = new WriteWindow(writeConcurrencyOf(options), writeBufferBytesOf(options));
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  // One waiter woken by whichever save ends, not Promise.race over every save in flight: a race adds a reaction to
  // each of the 64 pending saves every time the reader waits, millions of them over a large fetch.
  let wake: (() => void) | undefined;
  const aSaveEnds = () => new Promise<void>((resolve) => (wake = resolve));
  const counts: SettleCounts = { saved: 0, skipped: 0 };
  const save = async (result: Result) => {
    const entry = await folder.save(result);
    counts.saved++;
    const at = clock.now();
    const over = ctx.spend?.add(result.costUsd, options.maxCostUsd);
    if (over) options.onEvent?.({ type: 'warning', message: over, at });
    options.onEvent?.(savedEvent(result, entry, at));
  };
  try {
    for await (const item of items(jobs)) {
      if (done(item.job.key)) {
        counts.skipped++;
        continue;
      }
      const result = item.make(item.job);
      const bytes = result.status === 'succeeded' ? result.images.reduce((n, img) => n + img.data.byteLength, 0) : 0;
      while (!window.canStart(bytes)) await aSaveEnds();
      if (failure) throw failure;
      signal?.throwIfAborted();
      window.start(bytes);
      const p: Promise<void> = save(result)
        .catch((e: unknown) => {
          failure ??= e;
        })
        .finally(() => {
          window.end(bytes);
          inflight.delete(p);
          wake?.();
          wake = undefined;
        });
      inflight.add(p);
    }
    await Promise.all(inflight);
    if (failure) throw failure;
  } finally {
    await Promise.allSettled(inflight);
    await folder.close();
  }
  return counts;
}
