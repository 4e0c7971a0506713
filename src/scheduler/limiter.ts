// An in-flight cap that can change while work is running (the adaptive limit moves it).
// Waiters are served strictly first-come first-served so no caller starves behind later ones.

import { abortReason } from '../internal/clock.ts';
import { OptionError } from '../errors.ts';

/** Gives the slot back. Calling it more than once is harmless. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
}

export class Limiter {
  private cap: number;
  private active = 0;
  private readonly queue: Waiter[] = [];

  /** @param limit initial cap, an integer ≥ 1 */
  constructor(limit: number) {
    this.cap = checkLimit(limit);
  }

  /** The current cap. */
  get limit(): number {
    return this.cap;
  }

  /** Slots currently held. May exceed `limit` right after the cap was lowered: holders are never revoked. */
  get inFlight(): number {
    return this.active;
  }

  /** Callers waiting in acquire(). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Changes the cap. Raising it admits waiters at once; lowering it only delays future grants. */
  setLimit(limit: number): void {
    this.cap = checkLimit(limit);
    this.drain();
  }

  /** A slot now, or undefined when the cap is reached or someone is already queued (FIFO). */
  tryAcquire(): Release | undefined {
    if (this.queue.length > 0 || this.active >= this.cap) return undefined;
    return this.grantSlot();
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason when aborted first. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(abortReason(signal!));
        // Our place may have been the one blocking others behind a raised cap.
        this.drain();
      };
      this.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private grantSlot(): Release {
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.active < this.cap) {
      const w = this.queue.shift()!;
      w.grant(this.grantSlot());
    }
  }
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new OptionError('limit', limit, 'an integer ≥ 1');
  return limit;
}
