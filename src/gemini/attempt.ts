// One HTTP attempt's lifetime: the per-attempt deadline and the caller's signal merged into one
// AbortSignal that also covers reading the body, and a record of WHICH of the two fired, so a
// timeout is never reported as a cancellation (or the reverse).

export type StopCause = 'timeout' | 'cancelled';

export class Attempt {
  readonly timeoutMs: number;
  readonly #ctrl = new AbortController();
  readonly #callerSignal: AbortSignal | undefined;
  readonly #onCallerAbort: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #cause: StopCause | undefined;
  #finished = false;

  constructor(timeoutMs: number, callerSignal?: AbortSignal) {
    this.timeoutMs = timeoutMs;
    this.#callerSignal = callerSignal;
    this.#onCallerAbort = () => this.#stop('cancelled', callerSignal?.reason);
    if (callerSignal?.aborted) {
      this.#stop('cancelled', callerSignal.reason);
    } else {
      callerSignal?.addEventListener('abort', this.#onCallerAbort, { once: true });
      this.arm();
    }
  }

  /** Aborts on timeout or caller abort; pass it to fetch so the body read is cut too. */
  get signal(): AbortSignal {
    return this.#ctrl.signal;
  }

  /** Why the attempt was stopped, if it was. */
  get cause(): StopCause | undefined {
    return this.#cause;
  }

  /**
   * (Re)starts the deadline. Called once at start, and per body chunk for idle-timed streams.
   * `idle` timers are unref'd: a body the caller never reads must not keep the process alive.
   */
  arm(idle = false): void {
    if (this.#finished || this.#cause) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => this.#stop('timeout', new DOMException(`no complete answer within ${this.timeoutMs} ms`, 'TimeoutError')),
      this.timeoutMs,
    );
    if (idle) this.#timer.unref();
  }

  /** Stops the deadline while the caller, not the server, is the one we wait for (between body reads). */
  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Releases the timer and the caller listener; must run on every path. */
  finish(): void {
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort);
  }

  /**
   * Settles with `p`, or rejects as soon as the attempt is stopped, even when `p` ignores the
   * signal (an injected fetch that does not honour AbortSignal must not hang the caller).
   */
  race<T>(p: Promise<T>): Promise<T> {
    const signal = this.#ctrl.signal;
    p.catch(() => {}); // the loser's rejection is expected, not unhandled
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  #stop(cause: StopCause, reason: unknown): void {
    if (this.#cause || this.#finished) return;
    this.#cause = cause;
    clearTimeout(this.#timer);
    this.#ctrl.abort(reason ?? new DOMException('This operation was aborted', 'AbortError'));
  }
}

/** "fetch failed: connect ECONNREFUSED 127.0.0.1:9" — the message plus its cause chain, for 'network' outcomes. */
export function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== undefined && e !== null; depth++) {
    if (e instanceof Error) {
      const code = (e as Error & { code?: unknown }).code;
      const text = typeof code === 'string' && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
      if (text && !parts.includes(text)) parts.push(text);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.length > 0 ? parts.join(': ') : 'network error';
}
