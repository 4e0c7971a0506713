// Text for the batch commands: one line per batch event or status entry, and the --deadline parser.
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../internal/duration.ts';
import type { BatchEvent, BatchStatusEntry } from '../index.ts';

const short = (state: string | undefined) => (state ?? 'UNKNOWN').replace(/^BATCH_STATE_/, '');

export function batchLine(e: BatchEvent): string {
  switch (e.type) {
    case 'batch_submitted':
      return `submitted ${e.name}: ${e.requests} request(s), ${e.input} input, ${e.model}`;
    case 'batch_state': {
      const answered = e.counts.succeeded + e.counts.failed;
      return `${e.name} ${short(e.state)}: ${answered}/${e.counts.total} answered${e.counts.failed ? ` (${e.counts.failed} failed)` : ''}`;
    }
    case 'batch_poll_error':
      return `${e.name}: status check failed (${e.message}); trying again in ${(e.retryInMs / 1000).toFixed(1)}s`;
    case 'batch_collected':
      return `${e.name} ${short(e.state)}: ${e.saved} result(s) saved${e.skipped ? `, ${e.skipped} already in the folder` : ''}`;
    case 'batch_deadline':
      return `${e.name}: deadline near; cancelling it and finishing its jobs in streaming mode`;
    case 'batch_streaming':
      return `streaming mode for ${e.jobs} unanswered job(s)`;
    case 'batch_cleanup':
      return `${e.name}: deleted ${e.deleted.length ? e.deleted.join(', ') : 'nothing (already gone)'}`;
  }
}

export function statusLine(e: BatchStatusEntry, formatMs: (ms: number) => string): string {
  const c = e.counts;
  const progress = c ? `${c.succeeded + c.failed}/${c.total} answered${c.failed ? ` (${c.failed} failed)` : ''}` : `${e.requests} requests`;
  const saved = e.phase === 'settled' ? 'results saved' : e.phase === 'creating' ? 'create unconfirmed' : 'results not yet saved';
  const left = e.expiresInMs !== undefined ? `, expires in ${formatMs(e.expiresInMs)}` : '';
  const err = e.error ? ` [status unavailable: ${e.error}]` : '';
  return `${e.name ?? `(${e.id})`}  ${short(e.state)}  ${progress}  ${e.input}  age ${formatMs(e.ageMs)}${left}  ${saved}${err}`;
}

/** Commander parser for --deadline: "24h", "90m", "2d" → ms. */
export function deadlineFlag(value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms <= 0) throw new Error('not positive');
    return ms;
  } catch {
    throw new InvalidArgumentError(`expected a duration such as 24h, 90m or 2d, got "${value}"`);
  }
}
