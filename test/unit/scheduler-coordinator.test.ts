// The pool's narrow hook for an outside admission authority (a quota shared through Redis): a fake coordinator
// on virtual time proves what the pool asks and reports, without any Redis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../src/internal/clock.ts';
import { runPool } from '../../src/scheduler/index.ts';
import type { AttemptReport, Coordinator } from '../../src/scheduler/index.ts';
import { QuotaExhaustedError } from '../../src/errors.ts';
import type { Outcome } from '../../src/types.ts';
import { collect, drive, seeded } from '../helpers/sim.ts';

const IMAGE: Outcome = { kind: 'image', images: [], text: [] };

/** Grants one lease every `spacingMs`, like a shared rate; records everything. */
class FakeCoordinator implements Coordinator<number> {
  next = 0;
  granted: { job: number; lease: string; at: number }[] = [];
  released: { lease: string; report?: AttemptReport }[] = [];
  fail?: Error;
  constructor(
    private readonly clock: FakeClock,
    private readonly spacingMs: number,
  ) {}
  async acquire(job: number, _cost: number, signal: AbortSignal): Promise<string> {
    if (this.fail) throw this.fail;
    const at = Math.max(this.next, this.clock.now());
    this.next = at + this.spacingMs;
    await this.clock.sleep(at - this.clock.now(), signal);
    const lease = `L${this.granted.length}`;
    this.granted.push({ job, lease, at: this.clock.now() });
    return lease;
  }
  release(lease: string, report?: AttemptReport): void {
    this.released.push({ lease, report });
  }
}

test('every attempt starts only with a lease, at the time it was granted, and each lease is released once with its outcome', async () => {
  const clock = new FakeClock();
  const coordinator = new FakeCoordinator(clock, 100);
  const starts: number[] = [];
  const attempt = async (): Promise<Outcome> => {
    starts.push(clock.now());
    await clock.sleep(50);
    return IMAGE;
  };
  const res = await drive(clock, collect(runPool([0, 1, 2, 3, 4], { attempt, clock, random: seeded(1), concurrency: 8, coordinator })));
  assert.equal(res.length, 5);
  assert.deepEqual(starts, [0, 100, 200, 300, 400], 'the coordinator paces the starts');
  assert.deepEqual(coordinator.released.map((r) => r.lease).sort(), coordinator.granted.map((g) => g.lease).sort());
  assert.ok(coordinator.released.every((r) => r.report?.outcome.kind === 'image'));
});

test('a server-announced wait is reported as the pause for everyone; a run-level error as the stop', async () => {
  const clock = new FakeClock();
  const coordinator = new FakeCoordinator(clock, 0);
  const answers: Outcome[] = [
    { kind: 'error', reason: 'quota', message: '429', httpStatus: 429, retryAfterMs: 5000, quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' },
    IMAGE,
    { kind: 'error', reason: 'quota', message: 'daily', httpStatus: 429, quotaId: 'GenerateRequestsPerDayPerProjectPerModel' },
  ];
  const attempt = async (): Promise<Outcome> => {
    await clock.sleep(10);
    return answers.shift() ?? IMAGE;
  };
  await assert.rejects(drive(clock, collect(runPool([0, 1], { attempt, clock, random: seeded(1), concurrency: 1, coordinator }))), QuotaExhaustedError);
  const [first, second, third] = coordinator.released;
  assert.ok(first?.report?.pauseMs !== undefined && first.report.pauseMs >= 5000, 'the RetryInfo wait travels as a pause');
  assert.equal(second?.report?.pauseMs, undefined);
  assert.ok(third?.report?.stopError instanceof QuotaExhaustedError, 'the daily quota travels as a stop');
});

test('a coordinator that refuses (Redis gone too long) stops the run after in-flight attempts finish', async () => {
  const clock = new FakeClock();
  const coordinator = new FakeCoordinator(clock, 0);
  let done = 0;
  const attempt = async (): Promise<Outcome> => {
    if (done === 0) coordinator.fail = new Error('redis unreachable for 60 s');
    await clock.sleep(100);
    done++;
    return IMAGE;
  };
  const results: number[] = [];
  const run = (async () => {
    for await (const s of runPool([0, 1, 2], { attempt, clock, random: seeded(1), concurrency: 4, coordinator })) results.push(s.job);
  })();
  await assert.rejects(drive(clock, run), /redis unreachable/);
  assert.deepEqual(results, [0], 'the attempt in flight finished and was yielded; nothing else started');
  assert.equal(done, 1);
});

test('a soft stop while a lease is awaited aborts the request and leaves nothing held', async () => {
  const clock = new FakeClock();
  const coordinator = new FakeCoordinator(clock, 1000);
  const stop = new AbortController();
  const attempt = async (): Promise<Outcome> => {
    await clock.sleep(10);
    stop.abort();
    return IMAGE;
  };
  const res = await drive(clock, collect(runPool([0, 1, 2], { attempt, clock, random: seeded(1), concurrency: 4, coordinator, stopSignal: stop.signal })));
  assert.deepEqual(res.map((r) => r.job), [0]);
  assert.equal(coordinator.granted.length, 1, 'the second lease was never granted: its wait was aborted');
  assert.equal(coordinator.released.length, 1);
});
