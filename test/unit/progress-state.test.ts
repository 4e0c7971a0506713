import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressState } from '../../src/cli/progress-state.ts';
import { FakeClock } from '../../src/internal/clock.ts';
import type { RunEvent, RunSummary } from '../../src/types.ts';

const started = (key: string, index: number): RunEvent => ({ type: 'started', key, index, attempt: 1, at: 0 });
const succeeded = (key: string, index: number, extra: { costUsd?: number; cached?: boolean } = {}): RunEvent => ({
  type: 'succeeded',
  key,
  index,
  files: [`${key}.png`],
  attempts: 1,
  latencyMs: 10,
  at: 0,
  ...extra,
});

describe('ProgressState', () => {
  test('counts jobs in flight, retrying and finished, and adds up spend', () => {
    const s = new ProgressState({ clock: new FakeClock(), total: 5 });
    s.apply({ type: 'skipped', key: 'a', index: 0, why: 'done', at: 0 });
    s.apply(started('b', 1));
    s.apply(started('c', 2));
    assert.deepEqual([s.inFlight, s.retrying, s.done], [2, 0, 1]);
    s.apply({ type: 'retried', key: 'b', index: 1, attempt: 1, reason: 'server', delayMs: 500, at: 0 });
    assert.deepEqual([s.inFlight, s.retrying], [1, 1]);
    s.apply(started('b', 1));
    assert.deepEqual([s.inFlight, s.retrying], [2, 0]);
    s.apply(succeeded('b', 1, { costUsd: 0.039 }));
    s.apply({ type: 'failed', key: 'c', index: 2, reason: 'blocked', message: 'no', attempts: 1, at: 0 });
    s.apply(succeeded('d', 3, { cached: true }));
    s.apply({ type: 'concurrency', limit: 4, inFlight: 0, at: 0 });
    assert.deepEqual(
      { succeeded: s.succeeded, cached: s.cached, failed: s.failed, skipped: s.skipped, done: s.done, inFlight: s.inFlight, retrying: s.retrying, limit: s.limit },
      { succeeded: 2, cached: 1, failed: 1, skipped: 1, done: 4, inFlight: 0, retrying: 0, limit: 4 },
    );
    assert.equal(s.spentUsd, 0.039);
  });

  test('rate and ETA come from work done since the first request, on the injected clock', async () => {
    const clock = new FakeClock(1_000_000);
    const s = new ProgressState({ clock, total: 10 });
    assert.equal(s.etaMs(), undefined, 'nothing started yet');
    assert.equal(s.rate(), 0);
    s.apply(started('a', 0));
    s.apply(succeeded('x', 9, { cached: true })); // cached: counted as done, not as work
    assert.equal(s.etaMs(), undefined, 'no request has finished yet');
    await clock.advance(30_000);
    s.apply(succeeded('a', 0));
    s.apply(started('b', 1));
    await clock.advance(30_000);
    s.apply({ type: 'failed', key: 'b', index: 1, reason: 'server', message: 'x', attempts: 3, at: 0 });
    // 2 requests finished in 60 s; 7 jobs remain: 7 × 30 s.
    assert.equal(s.etaMs(), 210_000);
    // 1 image made (not cached) in one minute.
    assert.equal(s.rate(), 1);
    for (let i = 2; i < 9; i++) s.apply({ type: 'skipped', key: `k${i}`, index: i, why: 'done', at: 0 });
    assert.equal(s.etaMs(), 0, 'nothing remains');
  });

  test('without a total the ETA stays unknown until done names one', async () => {
    const clock = new FakeClock();
    const s = new ProgressState({ clock });
    s.apply(started('a', 0));
    await clock.advance(1000);
    s.apply(succeeded('a', 0));
    assert.equal(s.etaMs(), undefined);
    const summary = { total: 1 } as RunSummary;
    s.apply({ type: 'done', summary, at: 0 });
    assert.equal(s.total, 1);
    assert.equal(s.sawDone, true);
    assert.equal(s.etaMs(), 0);
  });

  test('a pause counts down on our clock, whatever time base the emitter used', async () => {
    const clock = new FakeClock(500);
    const s = new ProgressState({ clock });
    s.apply({ type: 'paused', untilMs: 90_000, reason: 'quota', quotaId: 'RPM', at: 60_000 });
    assert.equal(s.pauseLeftMs(), 30_000);
    await clock.advance(10_000);
    assert.equal(s.pauseLeftMs(), 20_000);
    assert.equal(s.pause?.quotaId, 'RPM');
    s.apply({ type: 'resumed', at: 0 });
    assert.equal(s.pause, undefined);
    assert.equal(s.pauseLeftMs(), 0);
  });
});
