// Settled results waiting for the consumer, in completion order or in input order.

import type { Settled } from './types.ts';

export class ResultBuffer<J> {
  private readonly fifo: Settled<J>[] = [];
  private readonly bySeq = new Map<number, Settled<J>>();
  private nextSeq = 0;

  constructor(private readonly ordered: boolean) {}

  /** Results held, including (in ordered mode) those waiting for an earlier job. */
  get size(): number {
    return this.ordered ? this.bySeq.size + this.fifo.length : this.fifo.length;
  }

  push(seq: number, s: Settled<J>): void {
    if (!this.ordered) {
      this.fifo.push(s);
      return;
    }
    this.bySeq.set(seq, s);
    while (this.bySeq.has(this.nextSeq)) {
      this.fifo.push(this.bySeq.get(this.nextSeq)!);
      this.bySeq.delete(this.nextSeq++);
    }
  }

  /** The run is over: release everything still held, in input order, gaps skipped. */
  flush(): void {
    const rest = [...this.bySeq.entries()].sort((a, b) => a[0] - b[0]);
    this.bySeq.clear();
    for (const [, s] of rest) this.fifo.push(s);
  }

  take(): Settled<J> | undefined {
    return this.fifo.shift();
  }
}
