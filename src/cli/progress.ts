// Live view of a run. Three renderings of the same RunEvent stream: a single redrawn line on a terminal, one plain
// line per finished job when piped, or the events themselves as JSON lines (a stable format: src/report/EVENTS.md).
//
// The terminal line is drawn by hand rather than with cli-progress because we need (1) lines printed above the bar
// (cli-progress only offers that on MultiBar), (2) no control sequences at all under NO_COLOR / dumb terminals:
// we redraw with '\r' and space padding instead of readline's cursor escapes, (3) a layout that switches to a compact
// line when the terminal is narrow, and (4) redraws driven by events, so tests see exactly what a user would.
import type { Writable } from 'node:stream';
import { systemClock } from '../internal/clock.ts';
import type { RunEvent, RunSummary } from '../index.ts';
import { describeLines, formatMs, formatUsd } from '../report/format.ts';

export interface ProgressOptions {
  /** Where the display writes (usually process.stderr or process.stdout). */
  stream: NodeJS.WriteStream | (Writable & { isTTY?: boolean; columns?: number });
  /** 'auto' picks 'tty' when stream.isTTY, else 'plain'. @default 'auto' */
  mode?: 'auto' | 'tty' | 'plain' | 'json';
  /** No ANSI colour codes. @default true when the NO_COLOR environment variable is set and not empty */
  noColor?: boolean;
  /** Jobs in the run, when known (bar fill and ETA). @default undefined (unknown) */
  total?: number;
  /** Output folder, named in the final summary. @default undefined */
  outDir?: string;
  /** json mode keeps its stream pure JSON lines, so message() goes here instead. @default process.stderr */
  messageStream?: Writable;
  /** Time source for rates, ETA and the pause countdown. @default the system clock */
  now?: () => number;
  /** tty mode: events redraw at most this often; a 1 s timer also redraws for countdowns. 0 redraws on every event. @default 100 */
  redrawMs?: number;
}

type Mode = 'tty' | 'plain' | 'json';
type Segment = [text: string, color?: 'green' | 'red' | 'yellow' | 'dim' | 'bold'];
const SGR = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const;

export class ProgressDisplay {
  private readonly mode: Mode;
  private readonly color: boolean;
  private readonly now: () => number;
  private readonly redrawMs: number;
  private total?: number;
  private succeeded = 0;
  private cached = 0;
  private failed = 0;
  private skipped = 0;
  private spentUsd = 0;
  private limit?: number;
  private readonly inFlight = new Set<string>();
  private readonly retrying = new Set<string>();
  private firstStartAt?: number;
  private pause?: { endsAt: number; reason: string; quotaId?: string };
  private lastWidth = 0;
  private lastDrawAt = -Infinity;
  private timer?: ReturnType<typeof setInterval>;
  private pending?: ReturnType<typeof setTimeout>;
  private sawDone = false;
  private stopped = false;
  private finished = false;

  constructor(private readonly options: ProgressOptions) {
    const mode = options.mode ?? 'auto';
    this.mode = mode === 'auto' ? (options.stream.isTTY ? 'tty' : 'plain') : mode;
    this.color = !(options.noColor ?? Boolean(process.env.NO_COLOR));
    this.now = options.now ?? (() => systemClock.now());
    this.redrawMs = options.redrawMs ?? 100;
    this.total = options.total;
    if (this.mode === 'tty') {
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref?.();
    }
  }

  onEvent(e: RunEvent): void {
    if (this.finished) return;
    this.track(e);
    if (this.mode === 'json') this.write(`${JSON.stringify(e)}\n`);
    else if (e.type === 'warning') return this.message(`warning: ${e.message}`);
    else if (this.mode === 'plain') this.plainLine(e);
    if (e.type === 'done') this.finish(e.summary);
    else if (this.mode === 'tty' && !this.stopped) this.scheduleDraw();
  }

  /** Prints a line above the bar (tty), as is (plain), or on messageStream (json). */
  message(text: string): void {
    if (this.mode === 'json') {
      (this.options.messageStream ?? process.stderr).write(`${text}\n`);
    } else if (this.mode === 'tty' && !this.stopped) {
      this.write(`${this.clearLine()}${text}\n`);
      this.lastWidth = 0;
      this.draw();
    } else {
      this.write(`${text}\n`);
    }
  }

  /** Ends the live view and prints the summary (json: the `done` event, unless one was already streamed). */
  finish(summary: RunSummary): void {
    if (this.finished) return;
    this.stop();
    this.finished = true;
    if (this.mode === 'json') {
      if (!this.sawDone) this.write(`${JSON.stringify({ type: 'done', summary, at: this.now() } satisfies RunEvent)}\n`);
      return;
    }
    const lines = summaryLines(summary, this.options.outDir);
    if (this.mode === 'tty') {
      const [head, ...rest] = lines;
      this.write(`${this.clearLine()}${this.paint([[head ?? '', 'bold']])}\n${rest.join('\n')}\n`);
    } else {
      this.write(`${lines.join('\n')}\n`);
    }
  }

  /** Stops redrawing and clears the bar line; safe to call more than once. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.timer = this.pending = undefined;
    this.stopped = true;
    if (this.mode === 'tty' && this.lastWidth > 0 && !this.finished) {
      this.write(this.clearLine());
      this.lastWidth = 0;
    }
  }

  private track(e: RunEvent): void {
    if (e.type === 'started') {
      this.firstStartAt ??= this.now();
      this.retrying.delete(e.key);
      this.inFlight.add(e.key);
    } else if (e.type === 'retried') {
      this.inFlight.delete(e.key);
      this.retrying.add(e.key);
    } else if (e.type === 'succeeded' || e.type === 'failed') {
      this.inFlight.delete(e.key);
      this.retrying.delete(e.key);
      if (e.type === 'succeeded') {
        this.succeeded++;
        if (e.cached) this.cached++;
        this.spentUsd += e.costUsd ?? 0;
      } else {
        this.failed++;
      }
    } else if (e.type === 'skipped') {
      this.skipped++;
    } else if (e.type === 'paused') {
      // untilMs and at share the emitter's time base; our own clock only measures the countdown from here.
      this.pause = { endsAt: this.now() + Math.max(0, e.untilMs - e.at), reason: e.reason, quotaId: e.quotaId };
    } else if (e.type === 'resumed') {
      this.pause = undefined;
    } else if (e.type === 'concurrency') {
      this.limit = e.limit;
    } else if (e.type === 'done') {
      this.sawDone = true;
      this.total ??= e.summary.total;
    }
  }

  private plainLine(e: RunEvent): void {
    if (e.type === 'succeeded') {
      const name = e.files[0] ? baseName(e.files[0]) + (e.files.length > 1 ? ` (+${e.files.length - 1})` : '') : e.key;
      const tail = e.cached ? '  cached' : e.costUsd ? `  ${formatUsd(e.costUsd)}` : '';
      this.write(`ok   ${name}  ${formatMs(e.latencyMs)}  attempts ${e.attempts}${tail}\n`);
    } else if (e.type === 'failed') {
      this.write(`FAIL ${pad4(e.index)}  ${e.reason}: ${oneLine(e.message)}  attempts ${e.attempts}\n`);
    } else if (e.type === 'retried') {
      // Shown so a reader sees the retry policy at work (e.g. a text-only answer asked again for an image).
      const how = e.reason === 'no_image' ? 'answered without an image; asking again for an image only' : `${e.reason}; again in ${formatMs(e.delayMs)}`;
      this.write(`retry ${pad4(e.index)}  attempt ${e.attempt} ${how}\n`);
    } else if (e.type === 'paused') {
      const quota = e.quotaId ? ` [${e.quotaId}]` : '';
      this.write(`paused ${formatMs(Math.max(0, e.untilMs - e.at))}: ${oneLine(e.reason)}${quota}\n`);
    } else if (e.type === 'resumed') {
      this.write('resumed\n');
    }
  }

  private scheduleDraw(): void {
    const wait = this.lastDrawAt + this.redrawMs - this.now();
    if (wait <= 0) this.draw();
    else this.pending ??= setTimeout(() => this.draw(), wait);
  }

  private draw(): void {
    if (this.stopped || this.mode !== 'tty') return;
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    this.lastDrawAt = this.now();
    const columns = this.options.stream.columns ?? 80;
    const segments = columns < 60 ? this.compactLine() : this.wideLine(columns);
    const fitted = fit(segments, Math.max(10, columns - 1));
    const width = fitted.reduce((n, [t]) => n + t.length, 0);
    // Pad over the previous line's leftovers instead of using a clear-line escape.
    this.write(`\r${this.paint(fitted)}${' '.repeat(Math.max(0, this.lastWidth - width))}`);
    this.lastWidth = width;
  }

  private wideLine(columns: number): Segment[] {
    const done = this.succeeded + this.failed + this.skipped;
    // The bar only gets the room left over by the numbers (none at 80 columns).
    const barWidth = Math.min(30, columns - 80);
    const filled = this.total ? Math.round(Math.min(1, done / this.total) * barWidth) : 0;
    const bar = barWidth >= 6 ? `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ` : '';
    return [
      [`${bar}${done}/${this.total ?? '?'} `],
      [`ok ${this.succeeded}`, 'green'],
      [' '],
      [`fail ${this.failed}`, this.failed ? 'red' : undefined],
      [` retry ${this.retrying.size} run ${this.inFlight.size}${this.limit ? `/${this.limit}` : ''} ${this.rate().toFixed(1)} img/min `],
      // Spend before the pause notice: when the line is too long, the quota id is what gets cut.
      [`${formatUsd(this.spentUsd)} `, 'dim'],
      this.pause ? this.pausedSegment() : [`ETA ${this.eta()}`],
    ];
  }

  private compactLine(): Segment[] {
    const done = this.succeeded + this.failed + this.skipped;
    return [
      [`${done}/${this.total ?? '?'} `],
      [`ok${this.succeeded}`, 'green'],
      [' '],
      [`F${this.failed}`, this.failed ? 'red' : undefined],
      [` r${this.retrying.size} i${this.inFlight.size} ${formatUsd(this.spentUsd)} `],
      this.pause ? this.pausedSegment() : [this.eta()],
    ];
  }

  private pausedSegment(): Segment {
    const left = Math.max(0, (this.pause?.endsAt ?? 0) - this.now());
    return [`PAUSED ${formatMs(left)} ${this.pause?.quotaId ?? this.pause?.reason ?? ''}`.trimEnd(), 'yellow'];
  }

  /** Images per minute since the first request of this run (skipped and cached jobs take no time). */
  private rate(): number {
    const elapsed = this.firstStartAt === undefined ? 0 : this.now() - this.firstStartAt;
    return elapsed > 0 ? ((this.succeeded - this.cached) * 60_000) / elapsed : 0;
  }

  private eta(): string {
    if (!this.total || this.firstStartAt === undefined) return '--';
    const worked = this.succeeded - this.cached + this.failed;
    const remaining = this.total - this.succeeded - this.failed - this.skipped;
    const elapsed = this.now() - this.firstStartAt;
    if (remaining <= 0) return '0s';
    if (worked <= 0 || elapsed <= 0) return '--';
    return formatMs((remaining * elapsed) / worked);
  }

  private clearLine(): string {
    return this.lastWidth > 0 ? `\r${' '.repeat(this.lastWidth)}\r` : '';
  }

  private paint(segments: Segment[]): string {
    return segments.map(([t, c]) => (this.color && c ? `\x1b[${SGR[c]}m${t}\x1b[0m` : t)).join('');
  }

  private write(text: string): void {
    this.options.stream.write(text);
  }
}

/** The end-of-run table, shared by the tty and plain renderings. */
export function summaryLines(s: RunSummary, outDir?: string): string[] {
  const reasons = Object.entries(s.byReason)
    .filter(([, n]) => n)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  // The head and the first rows are about this input's jobs; "this run" and "folder" say which numbers are whose.
  const rows: [string, string][] = [
    ['succeeded', `${s.succeeded}${s.cached ? ` (${s.cached} from cache)` : ''}`],
    ['failed', `${s.failed}${reasons ? ` (${reasons})` : ''}`],
    ['skipped', `${s.skipped}${s.skipped ? ' (done by an earlier run)' : ''}`],
  ];
  if (s.run) rows.push(['this run', `${s.run.succeeded} saved${s.run.cached ? ` (${s.run.cached} from cache)` : ''}, ${s.run.failed} failed, ${s.run.attempts} attempts`]);
  rows.push(['attempts', String(s.attempts)], ['wall time', formatMs(s.wallMs)], ['rate', `${s.imagesPerMinute.toFixed(1)} images/min`]);
  rows.push(['cost', s.run && s.run.costUsd !== s.costUsd ? `${formatUsd(s.run.costUsd)} this run (${formatUsd(s.costUsd)} for these jobs over all runs)` : formatUsd(s.costUsd)]);
  const f = s.folder;
  if (f && (f.jobs !== s.total || f.succeeded !== s.succeeded)) {
    rows.push(['folder', `${f.jobs} jobs from all runs: ${f.succeeded} succeeded, ${f.failed} failed, ${f.images} images`]);
  }
  if (f?.damaged) rows.push(['damaged', `${f.damaged} manifest line(s) skipped (${describeLines(f.damagedLines ?? [], f.damaged)})`]);
  if (outDir) rows.push(['output', outDir]);
  const head = `done: ${s.succeeded}/${s.total} succeeded${s.stoppedBy ? `, stopped by ${s.stoppedBy}` : ''}`;
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(10)} ${v}`)];
}

/** Keeps whole segments that fit, cutting the last one short; never wraps (a wrapped line breaks '\r' redraws). */
function fit(segments: Segment[], width: number): Segment[] {
  const out: Segment[] = [];
  let used = 0;
  for (const [text, color] of segments) {
    if (used + text.length <= width) {
      out.push([text, color]);
      used += text.length;
    } else {
      if (width - used > 1) out.push([text.slice(0, width - used - 1) + '~', color]);
      break;
    }
  }
  return out;
}

export { formatMs, formatUsd };

const pad4 = (n: number) => String(n).padStart(4, '0');
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const oneLine = (s: string) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
};
