// Reordering by admission number, for results that come from more than one ordered stream.

/**
 * Puts items back in input order by their 0-based admission number, passing over numbers declared skipped.
 * run.ts uses it for `ordered: true`: the pool yields its results in order among themselves and cache hits arrive in
 * order too, so it holds at most a few results: a later pool result can only exist once every earlier job was
 * admitted, i.e. sent to the pool, found in the cache (then it is already in the side channel) or skipped.
 */
export class InputOrder<T> {
  private next = 0;
  private readonly held = new Map<number, T>();
  private readonly skipped = new Set<number>();

  skip(seq: number): void {
    this.skipped.add(seq);
  }

  *accept(seq: number, item: T): Generator<T> {
    this.held.set(seq, item);
    for (;;) {
      if (this.skipped.delete(this.next)) {
        this.next++;
        continue;
      }
      if (!this.held.has(this.next)) return;
      const item = this.held.get(this.next) as T;
      this.held.delete(this.next++);
      yield item;
    }
  }

  /** The run is over: everything still held, in input order, gaps passed over. */
  *flush(): Generator<T> {
    const rest = [...this.held.entries()].sort((a, b) => a[0] - b[0]);
    this.held.clear();
    for (const [, r] of rest) yield r;
  }
}
