// Terminal mode: one line redrawn in place, lines printed above it, the summary table at the end.
//
// The line is drawn by hand rather than with cli-progress because we need (1) lines printed above the bar
// (cli-progress only offers that on MultiBar), (2) no control sequences at all under NO_COLOR / dumb terminals:
// we redraw with '\r' and space padding instead of readline's cursor escapes, (3) a layout that switches to a compact
// line when the terminal is narrow, and (4) redraws driven by events, so tests see exactly what a user would.
import type { RunEvent, RunSummary } from '../index.ts';
import { formatMs, formatUsd } from '../report/format.ts';
import type { ProgressState } from './progress-state.ts';
import type { ProgressRenderer, Write } from './progress-renderer.ts';
import { summaryLines } from './progress-summary.ts';

export interface TtyRendererOptions {
  state: ProgressState;
  write: Write;
  /** Terminal width, read at each draw. */
  columns: () => number | undefined;
  /** ANSI colours. */
  color: boolean;
  now: () => number;
  /** Events redraw at most this often; a 1 s timer also redraws for countdowns. 0 redraws on every event. */
  redrawMs: number;
  /** Output folder, named in the final summary. */
  outDir?: string;
}

type Segment = [text: string, color?: 'green' | 'red' | 'yellow' | 'dim' | 'bold'];
const SGR = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const;

export class TtyRenderer implements ProgressRenderer {
  private lastWidth = 0;
  private lastDrawAt = -Infinity;
  private timer?: ReturnType<typeof setInterval>;
  private pending?: ReturnType<typeof setTimeout>;
  private stopped = false;

  constructor(private readonly o: TtyRendererOptions) {
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref?.();
  }

  onEvent(e: RunEvent): void {
    if (e.type === 'warning') this.message(`warning: ${e.message}`);
    else if (e.type !== 'done' && !this.stopped) this.scheduleDraw();
  }

  message(text: string): void {
    if (this.stopped) return this.o.write(`${text}\n`);
    this.o.write(`${this.clearLine()}${text}\n`);
    this.lastWidth = 0;
    this.draw();
  }

  finish(summary: RunSummary): void {
    const [head, ...rest] = summaryLines(summary, this.o.outDir);
    this.o.write(`${this.clearLine()}${this.paint([[head ?? '', 'bold']])}\n${rest.join('\n')}\n`);
  }

  /** Stops redrawing and clears the bar line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.timer = this.pending = undefined;
    this.stopped = true;
    if (this.lastWidth > 0) {
      this.o.write(this.clearLine());
      this.lastWidth = 0;
    }
  }

  private scheduleDraw(): void {
    const wait = this.lastDrawAt + this.o.redrawMs - this.o.now();
    if (wait <= 0) this.draw();
    else this.pending ??= setTimeout(() => this.draw(), wait);
  }

  private draw(): void {
    if (this.stopped) return;
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    this.lastDrawAt = this.o.now();
    const columns = this.o.columns() ?? 80;
    const segments = columns < 60 ? this.compactLine() : this.wideLine(columns);
    const fitted = fit(segments, Math.max(10, columns - 1));
    const width = fitted.reduce((n, [t]) => n + t.length, 0);
    // Pad over the previous line's leftovers instead of using a clear-line escape.
    this.o.write(`\r${this.paint(fitted)}${' '.repeat(Math.max(0, this.lastWidth - width))}`);
    this.lastWidth = width;
  }

  private wideLine(columns: number): Segment[] {
    const s = this.o.state;
    // The bar only gets the room left over by the numbers (none at 80 columns).
    const barWidth = Math.min(30, columns - 80);
    const filled = s.total ? Math.round(Math.min(1, s.done / s.total) * barWidth) : 0;
    const bar = barWidth >= 6 ? `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ` : '';
    return [
      [`${bar}${s.done}/${s.total ?? '?'} `],
      [`ok ${s.succeeded}`, 'green'],
      [' '],
      [`fail ${s.failed}`, s.failed ? 'red' : undefined],
      [` retry ${s.retrying} run ${s.inFlight}${s.limit ? `/${s.limit}` : ''} ${s.rate().toFixed(1)} img/min `],
      // Spend before the pause notice: when the line is too long, the quota id is what gets cut.
      [`${spend(s.spentUsd, s.unpricedJobs, '+ unknown', 'cost unknown')} `, 'dim'],
      s.pause ? this.pausedSegment() : [`ETA ${this.eta()}`],
    ];
  }

  private compactLine(): Segment[] {
    const s = this.o.state;
    return [
      [`${s.done}/${s.total ?? '?'} `],
      [`ok${s.succeeded}`, 'green'],
      [' '],
      [`F${s.failed}`, s.failed ? 'red' : undefined],
      [` r${s.retrying} i${s.inFlight} ${spend(s.spentUsd, s.unpricedJobs, '+?', '$?')} `],
      s.pause ? this.pausedSegment() : [this.eta()],
    ];
  }

  private pausedSegment(): Segment {
    const p = this.o.state.pause;
    return [`PAUSED ${formatMs(this.o.state.pauseLeftMs())} ${p?.quotaId ?? p?.reason ?? ''}`.trimEnd(), 'yellow'];
  }

  private eta(): string {
    const ms = this.o.state.etaMs();
    return ms === undefined ? '--' : ms === 0 ? '0s' : formatMs(ms);
  }

  private clearLine(): string {
    return this.lastWidth > 0 ? `\r${' '.repeat(this.lastWidth)}\r` : '';
  }

  private paint(segments: Segment[]): string {
    return segments.map(([t, c]) => (this.o.color && c ? `\x1b[${SGR[c]}m${t}\x1b[0m` : t)).join('');
  }
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

/** The live spend: what is unknown (jobs of a model without a price) is said, never shown as $0. */
function spend(usd: number, unpriced: number, plusUnknown: string, allUnknown: string): string {
  if (unpriced === 0) return formatUsd(usd);
  return usd > 0 ? `${formatUsd(usd)} ${plusUnknown}` : allUnknown;
}
