// The pool's state machine: one dispatcher loop decides what may start (asking admission.ts);
// attempt completions and the consumer only change state and wake it. Everything the loop waits on is
// a state change or one abortable clock sleep, so closing the pool leaves no timer behind.

import type { Outcome } from '../types.ts';
import { Admission } from './admission.ts';
import type { Coordinator } from './coordinator.ts';
import type { Release } from './limiter.ts';
import { decide, perDayQuotaIds } from './retry.ts';
import type { Decision, RetryPolicyOptions } from './retry.ts';
import { ResultBuffer } from './results.ts';
import { Wakeup } from './wakeup.ts';
import type { AttemptContext, PoolEvent, ResolvedPoolOptions, Settled } from './types.ts';

interface Entry<J> {
  job: J;
  seq: number;
  cost: number;
  attempts: number;
  noImageCount: number;
  reinforce: boolean;
  firstStartAt: number;
}

interface Waiting<J> {
  entry: Entry<J>;
  dueAt: number;
  /** Backoff retries spend the retry budget; server-announced delays and no-image retries do not. */
  budgeted: boolean;
}

interface Running<J> {
  entry: Entry<J>;
  id: number;
  startedAt: number;
  inFlightAtStart: number;
  controller: AbortController;
  release: Release;
  /** The coordinator's lease, when one gates the pool. */
  lease?: string;
  done: Promise<void>;
}

/** An attempt admitted locally that waits for the coordinator's lease. */
interface Acquiring {
  controller: AbortController;
  done: Promise<void>;
}

type StopWhy = 'stop_signal' | 'run_error' | 'can_start';

export class PoolEngine<J> {
  finished = false;
  error: unknown = undefined;
  private hasError = false;
  private readonly retry: RetryPolicyOptions;
  private readonly source: Iterator<J> | AsyncIterator<J>;
  private readonly admission: Admission;
  private readonly results: ResultBuffer<J>;
  private staged?: Entry<J>;
  private pulling = false;
  private sourceDone = false;
  private readonly waiting: Waiting<J>[] = [];
  private readonly running = new Map<number, Running<J>>();
  private acquiring?: Acquiring;
  private seq = 0;
  private ids = 0;
  private stopping?: StopWhy;
  private aborted = false;
  private closing?: Promise<void>;
  private pump?: Promise<void>;
  private readonly pumpWake = new Wakeup();
  private readonly consumerWake = new Wakeup();
  private readonly detach: (() => void)[] = [];
  /** Per-day quota id → when the first server-announced wait for a 429 listing it ends. */
  private readonly dailyWaits = new Map<string, number>();

  constructor(
    jobs: Iterable<J> | AsyncIterable<J>,
    private readonly o: ResolvedPoolOptions<J>,
  ) {
    this.retry = o.retry;
    this.results = new ResultBuffer<J>(o.ordered);
    this.admission = new Admission({ ...o, probeBaseMs: this.retry.baseDelayMs, probeMaxMs: this.retry.maxDelayMs }, (e) => this.emit(e));
    this.source = Symbol.asyncIterator in jobs ? jobs[Symbol.asyncIterator]() : jobs[Symbol.iterator]();
  }

  start(): void {
    const { signal, stopSignal } = this.o;
    if (signal?.aborted) return this.abortAll();
    if (signal) this.listen(signal, () => this.abortAll());
    if (stopSignal?.aborted) this.stop('stop_signal');
    else if (stopSignal) this.listen(stopSignal, () => this.stop('stop_signal'));
    this.emit({ type: 'concurrency', limit: this.admission.limit, inFlight: 0, at: this.o.clock.now() });
    this.pump = this.loop();
  }

  /**
   * The next result to yield, if one is ready. After a hard abort only results settled BEFORE it remain (attempts
   * cut by the abort are never settled): they are answers already received and paid for, so they are still yielded.
   */
  takeResult(): Settled<J> | undefined {
    const r = this.results.take();
    if (r) this.pumpWake.notify(); // buffer space may re-open admission
    return r;
  }

  /** Resolves when a result arrived or the run finished (or spuriously: callers re-check). */
  changed(): Promise<void> {
    return this.consumerWake.wait();
  }

  /** Aborts whatever still runs and waits until every attempt returned and the loop ended. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abortAll();
      for (const d of this.detach) d();
      await this.acquiring?.done;
      await Promise.allSettled([...this.running.values()].map((r) => r.done));
      await this.pump;
    })();
    return this.closing;
  }

  private async loop(): Promise<void> {
    try {
      while (!this.finished) {
        this.pumpWake.clear();
        const waitMs = this.step();
        if (this.finished) break;
        await this.pumpWake.wait(this.o.clock, waitMs);
      }
    } catch (e) {
      // A bug here must not hang the consumer: surface it as the run's error.
      this.setError(e);
      this.abortAll();
    }
  }

  /** Starts every attempt allowed now; returns how long to sleep (undefined: until something changes). */
  private step(): number | undefined {
    const now = this.o.clock.now();
    this.admission.tick(now);
    if (this.stopping) {
      if (this.running.size === 0 && !this.acquiring) this.finish();
      return undefined;
    }
    for (;;) {
      // User callbacks run inside this loop ('started' events, canStart) and may stop or abort the pool.
      // One coordinator request at a time: its answer decides what the next start may be.
      if (this.stopping || this.finished || this.acquiring) return undefined;
      const head = this.waiting[0];
      const item = head && head.dueAt <= now ? head : undefined;
      const entry = item ? item.entry : this.staged && this.admitting() ? this.staged : undefined;
      if (!entry) {
        if (!this.staged && !this.pulling && !this.sourceDone && this.admitting()) this.pull();
        if (this.running.size === 0 && this.waiting.length === 0 && !this.staged && !this.pulling && !this.acquiring && this.sourceDone) {
          this.finish();
          return undefined;
        }
        return this.nextWake(now);
      }
      const budgeted = item?.budgeted ?? false;
      const wait = this.admission.gate(now, entry.cost, budgeted);
      if (wait !== 0) return wait;
      if (this.o.canStart && !this.o.canStart(entry.job)) {
        this.stop('can_start');
        return undefined;
      }
      const id = this.ids++;
      const release = this.admission.started(id, now, entry.cost, budgeted);
      if (!release) return undefined;
      if (item) this.waiting.shift();
      else this.staged = undefined;
      if (this.o.coordinator) this.acquire(this.o.coordinator, entry, id, release);
      else this.launch(entry, id, release, now);
    }
  }

  /** Asks the coordinator for a lease, then launches; a job admitted but never started while stopping is left to a resume. */
  private acquire(c: Coordinator<J>, entry: Entry<J>, id: number, release: Release): void {
    const controller = new AbortController();
    const done = c.acquire(entry.job, entry.cost, controller.signal).then(
      async (lease) => {
        // A pause announced while the lease was on its way (another attempt's 429) still holds for this start.
        for (let until = this.admission.pausedUntil; until !== undefined && until > this.o.clock.now() && !this.stopping && !this.finished; until = this.admission.pausedUntil) {
          await this.o.clock.sleep(until - this.o.clock.now(), controller.signal).catch(() => undefined);
        }
        this.acquiring = undefined;
        if (this.stopping || this.finished) {
          release();
          c.release(lease);
        } else this.launch(entry, id, release, this.o.clock.now(), lease);
        this.pumpWake.notify();
      },
      (e: unknown) => {
        this.acquiring = undefined;
        release();
        if (!controller.signal.aborted) this.stop('run_error', e);
        this.pumpWake.notify();
      },
    );
    this.acquiring = { controller, done };
  }

  /** May a new job be taken in? Bounded: results unconsumed, jobs held, and no new work while probing. */
  private admitting(): boolean {
    if (this.stopping || this.results.size >= this.o.maxBuffered) return false;
    if (this.running.size + this.waiting.length >= this.o.maxHeld) return false;
    return !(this.admission.degraded && this.waiting.length > 0);
  }

  private nextWake(now: number): number | undefined {
    const at = Math.min(this.waiting[0]?.dueAt ?? Infinity, this.admission.pausedUntil ?? Infinity);
    return Number.isFinite(at) ? Math.max(at - now, 0.001) : undefined;
  }

  private launch(entry: Entry<J>, id: number, release: Release, now: number, lease?: string): void {
    entry.attempts++;
    if (entry.attempts === 1) entry.firstStartAt = now;
    const controller = new AbortController();
    const run: Running<J> = { entry, id, startedAt: now, inFlightAtStart: this.admission.inFlight, controller, release, lease, done: Promise.resolve() };
    this.running.set(id, run);
    this.emit({ type: 'started', job: entry.job, attempt: entry.attempts, at: now });
    const ctx: AttemptContext = { attempt: entry.attempts, reinforce: entry.reinforce, signal: controller.signal };
    run.done = this.call(entry.job, ctx).then((outcome) => this.onFinished(run, outcome));
  }

  private async call(job: J, ctx: AttemptContext): Promise<Outcome> {
    try {
      const out: unknown = await this.o.attempt(job, ctx);
      if (typeof out === 'object' && out !== null && 'kind' in out) return out as Outcome;
      return { kind: 'error', reason: 'network', message: 'the attempt returned no outcome' };
    } catch (e) {
      if (ctx.signal.aborted) return { kind: 'error', reason: 'cancelled', message: 'the attempt was aborted' };
      return { kind: 'error', reason: 'network', message: `the attempt threw: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  private onFinished(run: Running<J>, outcome: Outcome): void {
    this.running.delete(run.id);
    run.release();
    if (this.aborted) return this.report(run, outcome);
    const now = this.o.clock.now();
    const { entry } = run;
    this.admission.finished(run, outcome, now);
    if (outcome.kind === 'no_image') entry.noImageCount++;
    const waitedOut = this.waitedOutBy(run.startedAt);
    const d = decide(outcome, { attempt: entry.attempts, noImageCount: entry.noImageCount, now, waitedOut }, this.retry, this.o.random);
    this.report(run, outcome, d);
    if (d.action === 'done' || d.action === 'give_up') this.settle(entry, outcome, d.action, now);
    else if (d.action === 'stop_run') this.stop('run_error', d.error);
    else if (!this.stopping) this.scheduleRetry(entry, outcome, d, now);
    // A retry decided while stopping is dropped: the job is not done, a resume re-runs it.
    this.pumpWake.notify();
  }

  private report(run: Running<J>, outcome: Outcome, d?: Decision): void {
    if (run.lease === undefined) return;
    const pauseMs = d?.action === 'retry' && d.serverDelay ? d.delayMs : undefined;
    this.o.coordinator?.release(run.lease, { outcome, pauseMs, stopError: d?.action === 'stop_run' ? d.error : undefined });
  }

  private scheduleRetry(entry: Entry<J>, outcome: Outcome, d: Extract<Decision, { action: 'retry' }>, now: number): void {
    entry.reinforce = d.reinforce;
    const error = outcome.kind === 'error' ? outcome : undefined;
    // The server named a time: nobody starts before it. The pause includes this retry's jitter so the
    // told job, not a fresh one, takes the first slot when it ends.
    if (d.serverDelay && error) this.admission.pause(now + d.delayMs, error.reason, error.quotaId, now);
    if (d.serverDelay) for (const id of perDayQuotaIds(outcome)) if (!this.dailyWaits.has(id)) this.dailyWaits.set(id, now + d.delayMs);
    const item: Waiting<J> = { entry, dueAt: now + d.delayMs, budgeted: !d.serverDelay && error !== undefined };
    // Sorted by due time, FIFO among equals: retries go first to whoever waited longest.
    let i = this.waiting.length;
    while (i > 0 && this.waiting[i - 1]!.dueAt > item.dueAt) i--;
    this.waiting.splice(i, 0, item);
    const reason = error ? error.reason : outcome.kind;
    this.emit({ type: 'retried', job: entry.job, attempt: entry.attempts, reason, delayMs: d.delayMs, at: now });
  }

  /** Per-day quotas whose first announced wait had ended when an attempt started at `startedAt`. */
  private waitedOutBy(startedAt: number): ReadonlySet<string> | undefined {
    if (this.dailyWaits.size === 0) return undefined;
    const out = new Set<string>();
    for (const [id, endsAt] of this.dailyWaits) if (startedAt >= endsAt) out.add(id);
    return out;
  }

  private settle(entry: Entry<J>, outcome: Outcome, decision: 'done' | 'give_up', now: number): void {
    const { job, attempts, firstStartAt } = entry;
    this.results.push(entry.seq, { job, outcome, attempts, firstStartAt, settledAt: now, latencyMs: now - firstStartAt, decision });
    this.consumerWake.notify();
  }

  private pull(): void {
    this.pulling = true;
    let next: Promise<IteratorResult<J>>;
    try {
      next = Promise.resolve(this.source.next());
    } catch (e) {
      next = Promise.reject(e);
    }
    next.then(
      (r) => {
        this.pulling = false;
        if (r.done) this.sourceDone = true;
        else this.staged = { job: r.value, seq: this.seq++, cost: this.costOf(r.value), attempts: 0, noImageCount: 0, reinforce: false, firstStartAt: 0 };
        this.pumpWake.notify();
      },
      (e: unknown) => {
        // Bad input mid-stream ends the run like any run-level failure.
        this.pulling = false;
        this.sourceDone = true;
        this.stop('run_error', e);
      },
    );
  }

  private costOf(job: J): number {
    const n = this.o.imagesPerJob(job);
    return Number.isFinite(n) && n >= 0 ? n : 1;
  }

  private stop(why: StopWhy, error?: unknown): void {
    if (why === 'run_error') this.setError(error);
    if (this.stopping || this.finished) return;
    this.stopping = why;
    this.acquiring?.controller.abort();
    this.emit({ type: 'stopping', why, at: this.o.clock.now() });
    this.pumpWake.notify();
  }

  private setError(e: unknown): void {
    if (this.hasError) return;
    this.hasError = true;
    this.error = e ?? new Error('the pool failed');
  }

  private abortAll(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.acquiring?.controller.abort();
    const reason = this.o.signal?.aborted ? this.o.signal.reason : new DOMException('The pool was closed', 'AbortError');
    for (const r of this.running.values()) r.controller.abort(reason);
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.results.flush();
    if (!this.sourceDone) {
      this.sourceDone = true;
      // Lets a generator source run its finally blocks (close files); not awaited, it may be mid-read.
      try {
        Promise.resolve(this.source.return?.()).catch(() => undefined);
      } catch {
        // a throwing return() is the source's problem, not the run's
      }
    }
    this.pumpWake.notify();
    this.consumerWake.notify();
  }

  private listen(signal: AbortSignal, fn: () => void): void {
    signal.addEventListener('abort', fn, { once: true });
    this.detach.push(() => signal.removeEventListener('abort', fn));
  }

  private emit(e: PoolEvent<J>): void {
    try {
      this.o.onEvent?.(e);
    } catch {
      // A broken progress display must not break the run.
    }
  }
}
