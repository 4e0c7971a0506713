import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/internal/clock.ts';
import { runPool } from '../../src/scheduler/index.ts';
import type { AttemptContext, PoolEvent, PoolOptions, Settled } from '../../src/scheduler/index.ts';
import type { ErrorOutcome, ErrorReason, Outcome } from '../../src/types.ts';
import { AuthError, OptionError } from '../../src/errors.ts';
import { collect, drive, seeded } from '../helpers/sim.ts';

const IMAGE: Outcome = { kind: 'image', images: [{ data: new Uint8Array([1]), mimeType: 'image/png' }], text: [] };
const fail = (reason: ErrorReason, extra: Partial<ErrorOutcome> = {}): Outcome => ({ kind: 'error', reason, message: reason, ...extra });

interface Start {
  job: number;
  attempt: number;
  at: number;
  reinforce: boolean;
  signal: AbortSignal;
}

/** An attempt function following a script (job, attempt) → outcome after latency, with a log. */
function scripted(clock: FakeClock, script: (job: number, attempt: number) => { outcome?: Outcome; latencyMs?: number }) {
  const log = { starts: [] as Start[], inFlight: 0, maxInFlight: 0, ends: [] as { job: number; at: number }[] };
  const attempt = async (job: number, ctx: AttemptContext): Promise<Outcome> => {
    log.starts.push({ job, attempt: ctx.attempt, at: clock.now(), reinforce: ctx.reinforce, signal: ctx.signal });
    log.inFlight++;
    log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
    const { outcome = IMAGE, latencyMs = 1000 } = script(job, ctx.attempt);
    try {
      await clock.sleep(latencyMs, ctx.signal);
      log.ends.push({ job, at: clock.now() });
      return outcome;
    } catch {
      return fail('cancelled');
    } finally {
      log.inFlight--;
    }
  };
  return { attempt, log };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const jobsOf = (r: Settled<number>[]) => r.map((s) => s.job);

function base(clock: FakeClock, attempt: PoolOptions<number>['attempt'], extra: Partial<PoolOptions<number>> = {}): PoolOptions<number> {
  return { attempt, clock, random: seeded(7), ...extra };
}

describe('runPool: limits and order', () => {
  test('in-flight never exceeds the limit; every job ends exactly once', async () => {
    const clock = new FakeClock();
    const rnd = seeded(3);
    const lat = range(40).map(() => 200 + Math.floor(rnd() * 3000));
    const { attempt, log } = scripted(clock, (job) => ({ latencyMs: lat[job] }));
    const res = await drive(clock, collect(runPool(range(40), base(clock, attempt, { concurrency: 3, adaptive: false }))));
    assert.equal(log.maxInFlight, 3);
    assert.deepEqual(jobsOf(res).sort((a, b) => a - b), range(40));
    assert.ok(res.every((s) => s.decision === 'done' && s.attempts === 1 && s.outcome.kind === 'image'));
  });

  test('the adaptive limit starts at min(ceiling, 8) and never exceeds the ceiling', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, () => ({ latencyMs: 1000 }));
    const limits: number[] = [];
    const onEvent = (e: PoolEvent<number>) => e.type === 'concurrency' && limits.push(e.limit);
    await drive(clock, collect(runPool(range(200), base(clock, attempt, { concurrency: 12, onEvent }))));
    assert.equal(limits[0], 8);
    assert.equal(Math.max(...limits), 12);
    assert.equal(log.maxInFlight, 12);
    assert.equal(log.starts.filter((s) => s.at === 0).length, 8);
  });

  test('yields in completion order: the fast job comes out while the slow one still runs', async () => {
    const clock = new FakeClock();
    const lat = [10_000, 1000, 5000];
    const { attempt } = scripted(clock, (job) => ({ latencyMs: lat[job] }));
    const seen: [number, number][] = [];
    const consume = async () => {
      for await (const s of runPool([0, 1, 2], base(clock, attempt))) seen.push([s.job, clock.now()]);
    };
    await drive(clock, consume());
    assert.deepEqual(seen, [
      [1, 1000],
      [2, 5000],
      [0, 10_000],
    ]);
  });

  test('ordered: yields in input order, and a slow head blocks admission after maxBuffered results', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, (job) => ({ latencyMs: job === 0 ? 100_000 : 1000 }));
    const opts = base(clock, attempt, { concurrency: 4, adaptive: false, ordered: true, maxBuffered: 5 });
    const res = await drive(clock, collect(runPool(range(50), opts)));
    assert.deepEqual(jobsOf(res), range(50));
    const startedBeforeHead = new Set(log.starts.filter((s) => s.at < 100_000).map((s) => s.job));
    // job 0 + at most 5 finished-but-unyielded + at most 3 others in flight.
    assert.ok(startedBeforeHead.size <= 1 + 5 + 3, `started ${startedBeforeHead.size} jobs behind a stuck head`);
  });

  test('one failing job does not stop the others', async () => {
    const clock = new FakeClock();
    const { attempt } = scripted(clock, (job) => ({ outcome: job === 3 ? fail('invalid_request', { httpStatus: 400 }) : IMAGE }));
    const res = await drive(clock, collect(runPool(range(8), base(clock, attempt))));
    assert.equal(res.length, 8);
    const bad = res.find((s) => s.job === 3)!;
    assert.equal(bad.decision, 'give_up');
    assert.equal(bad.attempts, 1);
    assert.equal(bad.outcome.kind === 'error' && bad.outcome.reason, 'invalid_request');
    assert.equal(res.filter((s) => s.decision === 'done').length, 7);
  });
});

describe('runPool: retries and pauses', () => {
  test('a transient error is retried after a backoff, and the retry is reported', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, (_job, n) => ({ outcome: n === 1 ? fail('server', { httpStatus: 500 }) : IMAGE, latencyMs: 100 }));
    const events: PoolEvent<number>[] = [];
    const res = await drive(clock, collect(runPool([0], base(clock, attempt, { onEvent: (e) => events.push(e) }))));
    assert.equal(res[0]!.attempts, 2);
    assert.equal(res[0]!.decision, 'done');
    const r = events.find((e) => e.type === 'retried');
    assert.ok(r && r.type === 'retried' && r.reason === 'server' && r.attempt === 1);
    assert.equal(log.starts[1]!.at, 100 + r.delayMs);
    assert.equal(res[0]!.latencyMs, res[0]!.settledAt - res[0]!.firstStartAt);
  });

  test('no_image is retried with reinforce, then gives up after noImageRetries', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, () => ({ outcome: { kind: 'no_image', text: ['Here it is!'], finishReason: 'STOP' } }));
    const res = await drive(clock, collect(runPool([0], base(clock, attempt))));
    assert.deepEqual(
      log.starts.map((s) => [s.attempt, s.reinforce]),
      [
        [1, false],
        [2, true],
        [3, true],
      ],
    );
    assert.equal(res[0]!.decision, 'give_up');
    assert.equal(res[0]!.outcome.kind, 'no_image');
  });

  test('a throwing attempt counts as a network error and is retried', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const attempt = async (): Promise<Outcome> => {
      if (++calls === 1) throw new TypeError('fetch failed');
      return IMAGE;
    };
    const res = await drive(clock, collect(runPool([0], base(clock, attempt))));
    assert.equal(res[0]!.attempts, 2);
    assert.equal(res[0]!.outcome.kind, 'image');
  });

  test('a 429 with RetryInfo pauses every job until the announced time', async () => {
    const clock = new FakeClock();
    const q = fail('quota', { httpStatus: 429, retryAfterMs: 30_000, quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' });
    const { attempt, log } = scripted(clock, (job, n) => (job === 2 && n === 1 ? { outcome: q, latencyMs: 100 } : { latencyMs: 1000 }));
    const events: PoolEvent<number>[] = [];
    const res = await drive(clock, collect(runPool(range(12), base(clock, attempt, { concurrency: 4, adaptive: false, onEvent: (e) => events.push(e) }))));
    assert.equal(res.length, 12);
    const paused = events.find((e) => e.type === 'paused');
    assert.ok(paused && paused.type === 'paused');
    // The announced 30 s plus this client's jitter (≤ 250 ms), so clients told together do not return together.
    assert.ok(paused.untilMs > 30_100 && paused.untilMs <= 30_350, String(paused.untilMs));
    assert.equal(paused.quotaId, 'GenerateRequestsPerMinutePerProjectPerModel');
    assert.deepEqual(
      log.starts.filter((s) => s.at >= 100 && s.at < paused.untilMs),
      [],
      'nothing starts inside the announced window',
    );
    const after = log.starts.filter((s) => s.at >= paused.untilMs);
    assert.deepEqual([after[0]!.job, after[0]!.attempt, after[0]!.at], [2, 2, paused.untilMs], 'the told job goes first');
    const resumed = events.find((e) => e.type === 'resumed');
    assert.equal(resumed?.at, paused.untilMs);
  });
});

describe('runPool: stopping', () => {
  test('a bad key stops the run after at most `concurrency` attempts and throws AuthError', async () => {
    for (const adaptive of [false, true]) {
      const clock = new FakeClock();
      const { attempt, log } = scripted(clock, (job) =>
        job === 0 ? { latencyMs: 5000 } : { outcome: fail('auth', { httpStatus: 400, errorReason: 'API_KEY_INVALID' }), latencyMs: 200 },
      );
      const events: PoolEvent<number>[] = [];
      const got: number[] = [];
      const run = async () => {
        for await (const s of runPool(range(1000), base(clock, attempt, { concurrency: 8, adaptive, onEvent: (e) => events.push(e) }))) got.push(s.job);
      };
      await assert.rejects(drive(clock, run()), (e: unknown) => e instanceof AuthError && e.errorReason === 'API_KEY_INVALID');
      assert.ok(log.starts.length <= 8, `${log.starts.length} attempts`);
      assert.deepEqual(got, [0], 'the in-flight good job settled and was yielded before the throw');
      assert.ok(events.some((e) => e.type === 'stopping' && e.why === 'run_error'));
    }
  });

  test('soft stop: nothing new starts, in-flight attempts finish and are yielded, waiting retries are not', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, (job, n) => (job === 1 && n === 1 ? { outcome: fail('server'), latencyMs: 500 } : { latencyMs: 1000 }));
    const stop = new AbortController();
    // Job 1 fails at 500 ms and waits 9 s for its retry (random 0.9 × base 10 s).
    const opts = { concurrency: 3, adaptive: false, stopSignal: stop.signal, retry: { baseDelayMs: 10_000 }, random: () => 0.9 };
    const p = collect(runPool(range(20), base(clock, attempt, opts)));
    await clock.advanceTo(1500);
    const startedBefore = log.starts.length;
    stop.abort();
    const res = await drive(clock, p);
    assert.equal(log.starts.length, startedBefore, 'no attempt started after the stop');
    assert.ok(!jobsOf(res).includes(1), 'job 1 was waiting for a retry: not done, not yielded');
    const endedInFlight = log.ends.filter((e) => e.at <= 2600).map((e) => e.job);
    for (const j of endedInFlight) if (j !== 1) assert.ok(jobsOf(res).includes(j), `job ${j} finished but was not yielded`);
    assert.ok(res.every((s) => s.decision === 'done'));
    assert.equal(clock.pending, 0);
  });

  test('canStart false soft-stops the pool', async () => {
    const clock = new FakeClock();
    const { attempt } = scripted(clock, () => ({}));
    const events: PoolEvent<number>[] = [];
    const res = await drive(clock, collect(runPool(range(10), base(clock, attempt, { canStart: (j) => j < 3, onEvent: (e) => events.push(e) }))));
    assert.deepEqual(jobsOf(res).sort(), [0, 1, 2]);
    assert.ok(events.some((e) => e.type === 'stopping' && e.why === 'can_start'));
  });

  test('hard abort: in-flight signals abort, the iterator returns promptly, no timer is left', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, () => ({ latencyMs: 60_000 }));
    const ac = new AbortController();
    const p = collect(runPool(range(100), base(clock, attempt, { concurrency: 4, adaptive: false, signal: ac.signal })));
    await clock.advanceTo(1000);
    assert.equal(log.inFlight, 4);
    ac.abort(new Error('user pressed Ctrl-C twice'));
    const res = await drive(clock, p, 0);
    assert.deepEqual(res, []);
    assert.ok(log.starts.every((s) => s.signal.aborted));
    assert.equal(log.inFlight, 0);
    assert.equal(clock.pending, 0);
    assert.equal(clock.now(), 1000, 'no virtual time had to pass');
  });

  test('breaking out of for-await cancels in-flight work and closes the source', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, (job) => ({ latencyMs: job === 0 ? 100 : 50_000 }));
    let closed = false;
    async function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const run = async () => {
      for await (const s of runPool(source(), base(clock, attempt, { concurrency: 4, adaptive: false }))) return s.job;
      return -1;
    };
    assert.equal(await drive(clock, run()), 0);
    assert.ok(log.starts.length > 1);
    assert.ok(log.starts.slice(1).every((s) => s.signal.aborted));
    assert.equal(log.inFlight, 0);
    assert.equal(clock.pending, 0);
    assert.ok(closed);
  });

  test('an input error mid-stream ends the run after in-flight work settles', async () => {
    const clock = new FakeClock();
    const { attempt } = scripted(clock, () => ({}));
    async function* source() {
      yield 0;
      yield 1;
      throw new Error('prompts.jsonl:3: bad JSON');
    }
    const got: number[] = [];
    const run = async () => {
      for await (const s of runPool(source(), base(clock, attempt))) got.push(s.job);
    };
    await assert.rejects(drive(clock, run()), /prompts.jsonl:3/);
    assert.deepEqual(got.sort(), [0, 1]);
  });
});

describe('runPool: laziness and backpressure', () => {
  test('pulls lazily from an infinite source: never more than held + buffered ahead of the consumer', async () => {
    const clock = new FakeClock();
    const { attempt } = scripted(clock, () => ({ latencyMs: 1000 }));
    let pulled = 0;
    function* infinite() {
      for (;;) yield pulled++;
    }
    const run = async () => {
      let n = 0;
      for await (const _ of runPool(infinite(), base(clock, attempt, { concurrency: 4, maxBuffered: 4 }))) {
        if (++n === 25) break;
        // The consumer is slow: results pile up until the pool stops admitting.
        await clock.sleep(5000);
      }
      return n;
    };
    assert.equal(await drive(clock, run()), 25);
    // maxHeld (2 × 4) + maxBuffered 4 + the one being consumed.
    assert.ok(pulled <= 25 + 8 + 4 + 1, `pulled ${pulled}`);
  });

  test('an unconsumed iterator stops admitting once maxBuffered results wait', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, () => ({ latencyMs: 100 }));
    const it = runPool(range(1000), base(clock, attempt, { concurrency: 2, adaptive: false, maxBuffered: 3 }))[Symbol.asyncIterator]();
    const first = await drive(clock, it.next());
    assert.equal(first.done, false);
    await clock.advance(60_000);
    assert.ok(log.starts.length <= 1 + 3 + 2, `${log.starts.length} started while nobody consumed`);
    await it.return?.();
    assert.equal(clock.pending, 0);
  });

  test('bad options throw an OptionError naming the option, at the call', () => {
    assert.throws(
      () => runPool([1], { attempt: async () => IMAGE, concurrency: 0 }),
      (e: unknown) => e instanceof OptionError && e.option === 'concurrency',
    );
    assert.throws(() => runPool([1], { attempt: async () => IMAGE, requestsPerMinute: -5 }), OptionError);
    assert.throws(() => runPool([1], { attempt: async () => IMAGE, retry: { maxAttempts: 0 } }), OptionError);
  });

  test('a stop requested from inside an event callback takes effect before the next start', async () => {
    const clock = new FakeClock();
    const { attempt, log } = scripted(clock, () => ({}));
    const stop = new AbortController();
    const onEvent = (e: PoolEvent<number>) => e.type === 'started' && e.job === 1 && stop.abort();
    const res = await drive(clock, collect(runPool(range(10), base(clock, attempt, { concurrency: 8, adaptive: false, stopSignal: stop.signal, onEvent }))));
    assert.deepEqual(
      log.starts.map((s) => s.job),
      [0, 1],
    );
    assert.deepEqual(jobsOf(res).sort(), [0, 1]);
  });

  test('a throwing onEvent does not break the run', async () => {
    const clock = new FakeClock();
    const { attempt } = scripted(clock, () => ({}));
    const res = await drive(
      clock,
      collect(
        runPool(
          range(5),
          base(clock, attempt, {
            onEvent: () => {
              throw new Error('display crashed');
            },
          }),
        ),
      ),
    );
    assert.equal(res.length, 5);
  });
});

describe('runPool on the system clock', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test('runs with real timers: retries after a RetryInfo pause, then ends', async () => {
    let calls = 0;
    const attempt = async (_job: number, ctx: AttemptContext): Promise<Outcome> => {
      await new Promise((r) => setTimeout(r, 2));
      if (++calls === 3) return fail('quota', { httpStatus: 429, retryAfterMs: 30 });
      return ctx.signal.aborted ? fail('cancelled') : IMAGE;
    };
    const res = await collect(runPool(range(12), { attempt, concurrency: 3, random: seeded(1) }));
    assert.equal(res.length, 12);
    assert.ok(res.every((s) => s.decision === 'done'));
    assert.equal(calls, 13);
  });

  test('breaking out leaves no timer behind', async () => {
    const before = timers();
    const attempt = (job: number, ctx: AttemptContext): Promise<Outcome> =>
      new Promise((resolve) => {
        const t = setTimeout(() => resolve(IMAGE), job === 0 ? 1 : 60_000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve(fail('cancelled'));
        });
      });
    // A slow retry is waiting too (the pool's own sleep must be cancelled).
    const retrying = (job: number, ctx: AttemptContext) => (job === 1 && ctx.attempt === 1 ? Promise.resolve(fail('server')) : attempt(job, ctx));
    for await (const s of runPool(range(10), { attempt: retrying, concurrency: 4, adaptive: false, retry: { baseDelayMs: 60_000 }, random: () => 0.9 })) {
      assert.equal(s.job, 0);
      break;
    }
    assert.equal(timers(), before);
  });
});
