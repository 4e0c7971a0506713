// Piped output: one plain line per finished job, retry and pause; the summary table at the end.
import type { RunEvent, RunSummary } from '../index.ts';
import { formatMs, formatUsd } from '../report/format.ts';
import type { ProgressRenderer, Write } from './progress-renderer.ts';
import { summaryLines } from './progress-summary.ts';

export class PlainRenderer implements ProgressRenderer {
  constructor(
    private readonly write: Write,
    private readonly outDir?: string,
  ) {}

  onEvent(e: RunEvent): void {
    if (e.type === 'warning') return this.message(`warning: ${e.message}`);
    const line = plainLine(e);
    if (line !== undefined) this.write(`${line}\n`);
  }

  message(text: string): void {
    this.write(`${text}\n`);
  }

  finish(summary: RunSummary): void {
    this.write(`${summaryLines(summary, this.outDir).join('\n')}\n`);
  }

  stop(): void {}
}

/** The line an event gets when piped, or undefined for events that print nothing. */
export function plainLine(e: RunEvent): string | undefined {
  if (e.type === 'succeeded') {
    const name = e.files[0] ? baseName(e.files[0]) + (e.files.length > 1 ? ` (+${e.files.length - 1})` : '') : e.key;
    const tail = e.cached ? '  cached' : e.costUnknown ? '  cost unknown' : e.costUsd ? `  ${formatUsd(e.costUsd)}` : '';
    return `ok   ${name}  ${formatMs(e.latencyMs)}  attempts ${e.attempts}${tail}`;
  } else if (e.type === 'failed') {
    return `FAIL ${pad4(e.index)}  ${e.reason}: ${oneLine(e.message)}  attempts ${e.attempts}`;
  } else if (e.type === 'retried') {
    // Shown so a reader sees the retry policy at work (e.g. a text-only answer asked again for an image).
    const how = e.reason === 'no_image' ? 'answered without an image; asking again for an image only' : `${e.reason}; again in ${formatMs(e.delayMs)}`;
    return `retry ${pad4(e.index)}  attempt ${e.attempt} ${how}`;
  } else if (e.type === 'paused') {
    const quota = e.quotaId ? ` [${e.quotaId}]` : '';
    return `paused ${formatMs(Math.max(0, e.untilMs - e.at))}: ${oneLine(e.reason)}${quota}`;
  } else if (e.type === 'resumed') {
    return 'resumed';
  }
  return undefined;
}

const pad4 = (n: number) => String(n).padStart(4, '0');
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const oneLine = (s: string) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
};
