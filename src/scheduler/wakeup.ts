// A level-triggered wake-up: notify() before wait() is not lost, and a wait may also end after a
// clock sleep, which is aborted (no timer left behind) whichever comes first.

import type { Clock } from '../internal/clock.ts';

export class Wakeup {
  private dirty = false;
  private waiter?: () => void;

  notify(): void {
    this.dirty = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Forget notifications seen so far (call before re-reading the state they announce). */
  clear(): void {
    this.dirty = false;
  }

  /** Resolves on the next notify() (at once if one came since clear()), or after `ms` on `clock`. */
  async wait(clock?: Clock, ms?: number): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      return;
    }
    const ac = new AbortController();
    const woken = new Promise<void>((resolve) => (this.waiter = resolve));
    const waits = [woken];
    if (clock && ms !== undefined) waits.push(clock.sleep(ms, ac.signal).catch(() => undefined));
    try {
      await Promise.race(waits);
    } finally {
      ac.abort();
      this.waiter = undefined;
    }
  }
}
