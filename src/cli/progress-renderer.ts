// The contract between ProgressDisplay and its three renderings (progress-tty/plain/json.ts). A renderer draws;
// the display updates the ProgressState before each onEvent, and guards against use after finish.
import type { RunEvent, RunSummary } from '../index.ts';

export interface ProgressRenderer {
  /** Draws after the state has taken in `e`. A `done` event is followed by finish(). */
  onEvent(e: RunEvent): void;
  /** A line for the user outside the event stream. */
  message(text: string): void;
  /** Prints the end of the run; called once, after stop(). */
  finish(summary: RunSummary): void;
  /** Stops redrawing; safe to call more than once. */
  stop(): void;
}

export type Write = (text: string) => void;
