// Merges a main async iterator with a side channel that another task feeds, with backpressure on the side.
// Used to yield cache hits alongside the pool's results without routing them through the scheduler.

export class Channel<T> {
  private items: T[] = [];
  private closed = false;
  private readers: (() => void)[] = [];
  private writers: (() => void)[] = [];
  constructor(private readonly bound = 16) {}

  /** Waits while the channel is full, so a fast producer cannot fill memory. */
  async push(item: T): Promise<void> {
    while (this.items.length >= this.bound && !this.closed) await new Promise<void>((r) => this.writers.push(r));
    if (this.closed) return;
    this.items.push(item);
    this.wake(this.readers);
  }

  close(): void {
    this.closed = true;
    this.wake(this.readers);
    this.wake(this.writers);
  }

  take(): T | undefined {
    const item = this.items.shift();
    if (item !== undefined) this.wake(this.writers);
    return item;
  }

  get size(): number {
    return this.items.length;
  }

  /** Readers waiting for an item (at most one while merging: a lost race must not leave its wait behind). */
  get waiting(): number {
    return this.readers.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves when an item is available or the channel is closed. */
  ready(): Promise<void> {
    return this.waitReady().ready;
  }

  /** ready(), plus cancel() to drop the wait: a raced wait that lost must not stay referenced (with its race). */
  waitReady(): { ready: Promise<void>; cancel: () => void } {
    if (this.items.length > 0 || this.closed) return { ready: Promise.resolve(), cancel: () => {} };
    let reader!: () => void;
    const ready = new Promise<void>((r) => (reader = r));
    this.readers.push(reader);
    return {
      ready,
      cancel: () => {
        const i = this.readers.indexOf(reader);
        if (i >= 0) this.readers.splice(i, 1);
      },
    };
  }

  private wake(list: (() => void)[]): void {
    const all = list.splice(0);
    for (const r of all) r();
  }
}

/**
 * Yields from `main` and from `side` as items arrive; ends when `main` is done and `side` is drained and closed.
 * `main`'s next() is never called twice concurrently. Returning early calls `cancel`, then main.return().
 */
export async function* mergeWithChannel<T>(main: AsyncIterator<T>, side: Channel<T>, cancel?: () => void): AsyncGenerator<T> {
  type Settled = { ok: true; r: IteratorResult<T> } | { ok: false; error: unknown };
  // One wrapped promise per next() call, so a rejection is always observed exactly once.
  let pending: Promise<Settled> | undefined;
  let mainDone = false;
  try {
    for (;;) {
      const s = side.take();
      if (s !== undefined) {
        yield s;
        continue;
      }
      if (mainDone) {
        if (side.isClosed) return;
        await side.ready();
        continue;
      }
      pending ??= main.next().then(
        (r): Settled => ({ ok: true, r }),
        (error: unknown): Settled => ({ ok: false, error }),
      );
      // A closed, empty side can never win again: then only main is awaited (else this would spin).
      let winner: Settled | undefined;
      if (side.isClosed) winner = await pending;
      else {
        const wait = side.waitReady();
        try {
          winner = await Promise.race([pending, wait.ready.then(() => undefined)]);
        } finally {
          wait.cancel();
        }
      }
      if (winner === undefined) continue;
      pending = undefined;
      if (!winner.ok) throw winner.error;
      if (winner.r.done) mainDone = true;
      else yield winner.r.value;
    }
  } finally {
    side.close();
    if (!mainDone) {
      // Cancel first: a pending next() may be waiting on in-flight work that only an abort ends quickly.
      cancel?.();
      if (pending) await pending;
      await main.return?.();
    }
  }
}
