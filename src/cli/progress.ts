// Live view of a run. Three renderings of the same RunEvent stream: a single redrawn line on a terminal
// (progress-tty.ts), one plain line per finished job when piped (progress-plain.ts), or the events themselves as
// JSON lines (progress-json.ts). This file picks the rendering and feeds every event to the ProgressState
// (progress-state.ts) that the renderings draw from.
import type { Writable } from 'node:stream';
import { systemClock } from '../internal/clock.ts';
import type { RunEvent, RunSummary } from '../index.ts';
import { formatMs, formatUsd } from '../report/format.ts';
import { JsonRenderer } from './progress-json.ts';
import { PlainRenderer } from './progress-plain.ts';
import type { ProgressRenderer } from './progress-renderer.ts';
import { ProgressState } from './progress-state.ts';
import { TtyRenderer } from './progress-tty.ts';

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

export class ProgressDisplay {
  private readonly state: ProgressState;
  private readonly renderer: ProgressRenderer;
  private finished = false;

  constructor(options: ProgressOptions) {
    const mode = options.mode ?? 'auto';
    const now = options.now ?? (() => systemClock.now());
    const write = (text: string) => void options.stream.write(text);
    this.state = new ProgressState({ clock: { now }, total: options.total });
    if (mode === 'json') {
      const messages = options.messageStream ?? process.stderr;
      this.renderer = new JsonRenderer(this.state, write, (text) => void messages.write(text), now);
    } else if (mode === 'tty' || (mode === 'auto' && options.stream.isTTY)) {
      this.renderer = new TtyRenderer({
        state: this.state,
        write,
        columns: () => options.stream.columns,
        color: !(options.noColor ?? Boolean(process.env.NO_COLOR)),
        now,
        redrawMs: options.redrawMs ?? 100,
        outDir: options.outDir,
      });
    } else {
      this.renderer = new PlainRenderer(write, options.outDir);
    }
  }

  onEvent(e: RunEvent): void {
    if (this.finished) return;
    this.state.apply(e);
    this.renderer.onEvent(e);
    if (e.type === 'done') this.finish(e.summary);
  }

  /** Prints a line above the bar (tty), as is (plain), or on messageStream (json). */
  message(text: string): void {
    this.renderer.message(text);
  }

  /** Ends the live view and prints the summary (json: the `done` event, unless one was already streamed). */
  finish(summary: RunSummary): void {
    if (this.finished) return;
    this.renderer.stop();
    this.finished = true;
    this.renderer.finish(summary);
  }

  /** Stops redrawing and clears the bar line; safe to call more than once. */
  stop(): void {
    this.renderer.stop();
  }
}

export { summaryLines } from './progress-summary.ts';
export { formatMs, formatUsd };
