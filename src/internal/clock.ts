// Time as a dependency: the scheduler and retry code take a Clock so tests can run on virtual time.

export interface Clock {
  /** Milliseconds, monotonic enough for scheduling (epoch ms for the system clock). */
  now(): number;
  /** Resolves after ms; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => abortableSleep(ms, signal),
};

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A virtual clock. Sleeps resolve only when time is advanced past them, in time order.
 * `advance()` lets pending promise callbacks run between timers, so code that sleeps
 * in a loop behaves as it would in real time.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const s: Sleeper = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve: () => {} };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        reject(abortReason(signal!));
      };
      s.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.sleepers.push(s);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Number of sleeps not yet due. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Time of the next due sleep, if any. */
  nextAt(): number | undefined {
    let best: number | undefined;
    for (const s of this.sleepers) if (best === undefined || s.at < best) best = s.at;
    return best;
  }

  /** Moves time forward by ms, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await flushMicrotasks();
      const next = this.nextAt();
      if (next === undefined || next > target) break;
      this.t = Math.max(this.t, next);
      const due = this.sleepers.filter((s) => s.at <= this.t).sort((a, b) => a.at - b.at || a.seq - b.seq);
      this.sleepers = this.sleepers.filter((s) => s.at > this.t);
      for (const s of due) s.resolve();
    }
    this.t = Math.max(this.t, target);
    await flushMicrotasks();
  }

  /** Runs until no sleeper is left (or maxMs of virtual time passed). */
  async runAll(maxMs = Number.MAX_SAFE_INTEGER): Promise<void> {
    const limit = this.t + maxMs;
    for (;;) {
      await flushMicrotasks();
      const next = this.nextAt();
      if (next === undefined || next > limit) return;
      await this.advanceTo(next);
    }
  }
}

/** Lets queued promise reactions (and one macrotask turn) run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
