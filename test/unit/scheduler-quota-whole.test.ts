// The pool with a 429 read whole: per-minute + per-day violations pause the run; the same per-day violation
// coming back after the announced wait stops it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/internal/clock.ts';
import { runPool } from '../../src/scheduler/index.ts';
import type { AttemptContext, PoolEvent } from '../../src/scheduler/index.ts';
import type { Outcome } from '../../src/types.ts';
import { QuotaExhaustedError } from '../../src/errors.ts';
import { outcomeFromError } from '../../src/gemini/outcome.ts';
import { collect, drive, seeded } from '../helpers/sim.ts';
import { recordedText } from '../helpers/replay.ts';

const IMAGE: Outcome = { kind: 'image', images: [{ data: new Uint8Array([1]), mimeType: 'image/png' }], text: [] };
const mixed429 = () => outcomeFromError(429, recordedText('429-minute-and-day'));

describe('runPool: a 429 read whole', () => {
  test('per-minute + per-day with RetryInfo 3s pauses ~3 s and the run finishes', async () => {
    const clock = new FakeClock();
    const events: PoolEvent<number>[] = [];
    const attempt = async (job: number, ctx: AttemptContext): Promise<Outcome> => {
      await clock.sleep(100, ctx.signal);
      return job === 1 && ctx.attempt === 1 ? mixed429() : IMAGE;
    };
    const res = await drive(clock, collect(runPool([0, 1, 2, 3], { attempt, clock, random: seeded(1), concurrency: 2, adaptive: false, onEvent: (e) => events.push(e) })));
    assert.equal(res.length, 4);
    assert.ok(res.every((s) => s.outcome.kind === 'image'));
    const paused = events.find((e) => e.type === 'paused');
    assert.ok(paused?.type === 'paused');
    assert.ok(paused.untilMs - paused.at >= 3000 && paused.untilMs - paused.at <= 3300, String(paused.untilMs - paused.at));
  });

  test('the same per-day violation after the wait stops the run with QuotaExhaustedError', async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const attempt = async (_job: number, ctx: AttemptContext): Promise<Outcome> => {
      starts.push(clock.now());
      await clock.sleep(100, ctx.signal);
      return mixed429();
    };
    const run = collect(runPool([0, 1, 2, 3, 4, 5], { attempt, clock, random: seeded(2), concurrency: 2, adaptive: false }));
    await assert.rejects(drive(clock, run), (e: unknown) => {
      assert.ok(e instanceof QuotaExhaustedError, String(e));
      assert.equal(e.quotaId, 'GenerateRequestsPerDayPerProjectPerModel');
      assert.match(e.message, /still after the announced wait/);
      return true;
    });
    // First wave (2), then the retries after the ~3 s pause; nothing after the stop.
    assert.ok(starts.length <= 4, `attempts: ${starts.length}`);
    assert.ok(starts.some((t) => t >= 3000), 'the run waited once before stopping');
  });
});
