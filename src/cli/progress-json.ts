// json mode: the events themselves, one JSON line each (a stable format: src/report/EVENTS.md). Messages go to
// another stream so this one stays pure JSON lines.
import type { RunEvent, RunSummary } from '../index.ts';
import type { ProgressState } from './progress-state.ts';
import type { ProgressRenderer, Write } from './progress-renderer.ts';

export class JsonRenderer implements ProgressRenderer {
  constructor(
    private readonly state: ProgressState,
    private readonly write: Write,
    private readonly writeMessage: Write,
    private readonly now: () => number,
  ) {}

  onEvent(e: RunEvent): void {
    this.write(`${JSON.stringify(e)}\n`);
  }

  message(text: string): void {
    this.writeMessage(`${text}\n`);
  }

  /** Ends with a `done` event, unless one was already streamed. */
  finish(summary: RunSummary): void {
    if (!this.state.sawDone) this.write(`${JSON.stringify({ type: 'done', summary, at: this.now() } satisfies RunEvent)}\n`);
  }

  stop(): void {}
}
